name = "t"
variable "owner" {
  default = "me"
}
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = upper(var.owner)   # <- error
  }
}
# expect: 8: unsupported expression '${upper(var.owner)}'
