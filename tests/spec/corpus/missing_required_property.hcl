name = "t"
resource "logs" {   # <- error
  type = "aws:s3:Bucket"
  properties {
    tags = { a = "b" }
  }
}
# expect: 2: missing required property 'bucket' for type 'aws:s3:Bucket'
