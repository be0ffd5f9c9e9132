name = "t"
environment "prod" {
  protectd = true   # <- error
}
# expect: 3: unknown environment key 'protectd' (did you mean 'protected'?)
