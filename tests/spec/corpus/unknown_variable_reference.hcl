name = "t"
variable "owner" {
  default = "me"
}
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs-${var.ownr}"   # <- error
  }
}
# expect: 8: unknown variable 'ownr' in ${var.ownr} (did you mean 'owner'?)
