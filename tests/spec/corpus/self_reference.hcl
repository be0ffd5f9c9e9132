name = "t"
resource "a" {   # <- error
  type = "aws:s3:Bucket"
  properties {
    bucket = "x"
    tags   = { me = a.arn }
  }
}
# expect: 2: dependency cycle between resources: a -> a
