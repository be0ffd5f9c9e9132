name = "t"
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "a"
    bucket = "b"   # <- error
  }
}
# expect: 6: duplicate key 'bucket' (first defined on line
