name = "t"
variable "owner" {
  default = "me"
}
environment "dev" {   # <- error
  variables = { ownr = "you" }
}
# expect: 5: environment 'dev' sets unknown variable 'ownr' (did you mean 'owner'?)
