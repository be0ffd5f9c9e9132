name = "t"
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = 42   # <- error
  }
}
# expect: 5: property 'bucket' must be string, got integer 42
