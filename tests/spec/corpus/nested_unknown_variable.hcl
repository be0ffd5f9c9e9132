name = "t"
variable "owner" {
  default = "me"
}
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs"
    tags = {
      team  = "platform"
      owner = var.ownr   # <- error
    }
  }
}
# expect: 11: unknown variable 'ownr' in ${var.ownr} (did you mean 'owner'?)
