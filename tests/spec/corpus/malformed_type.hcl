name = "t"
resource "logs" {
  type = "s3-bucket"   # <- error
  properties {
    bucket = "logs"
  }
}
# expect: 3: malformed resource type 's3-bucket'
