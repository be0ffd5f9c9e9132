name = "t"
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs"
    tags   = ["a", "b"]   # <- error
  }
}
# expect: 6: property 'tags' must be map, got list
