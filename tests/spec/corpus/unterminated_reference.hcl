name = "t"
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs-$${var.owner"
    tags   = { a = "${oops" }   # <- error
  }
}
# expect: 6: HCL syntax error: unexpected
