name = "t"
resource "logs" {   # <- error
  type = "aws:s3:Buckt"
  properties {
    bucket = "logs"
  }
}
# expect: 2: unknown resource type 'aws:s3:Buckt' (did you mean 'aws:s3:Bucket'?)
