name = "t"
variable "days" {
  type    = number
  default = "thirty"   # <- error
}
# expect: 4: default of variable 'days' is a string, not number
