name = "t"
variabels = {   # <- error
  owner = { default = "me" }
}
# expect: 2: unknown top-level block or attribute 'variabels' (did you mean 'variable'?)
