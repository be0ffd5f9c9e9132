name = "t"
variabels = {   # <- error
  owner = { default = "me" }
}
# expect: 2: unknown top-level key 'variabels' (did you mean 'variables'?)
