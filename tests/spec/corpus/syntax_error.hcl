name = "broken"
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "x"
    tags = { a = 1 b }   # <- error
  }
}
# expect: 6: syntax error
