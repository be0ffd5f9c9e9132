resource "logs" {   # <- error
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs"
  }
}
# expect: 1: the spec needs a 'name'
