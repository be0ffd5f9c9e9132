name = "t"
variable "tags" {
  type = mapp   # <- error
}
# expect: 3: variable 'tags' has unknown type 'mapp' (did you mean 'map'?)
