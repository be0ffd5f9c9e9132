name = "t"
resource "logs" {
  type = "aws:s3:Buckt"   # <- error
  properties {
    bucket = "logs"
  }
}
# expect: 3: unknown resource type 'aws:s3:Buckt' (did you mean 'aws:s3:Bucket'?)
