name = "t"
variable "days" {
  type    = number
  default = 3
}
environment "dev" {   # <- error
  variables = { days = "many" }
}
# expect: 6: environment 'dev' sets variable 'days' to a value that is not a number
