name = "t"
variable "days" {
  type    = string
  default = "30"
}
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket         = "logs"
    lifecycle_days = var.days   # <- error
  }
}
# expect: 10: property 'lifecycle_days' must be integer, got string ${var.days}
