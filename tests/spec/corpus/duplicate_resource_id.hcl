name = "t"
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "a"
  }
}
resource "logs" {   # <- error
  type = "aws:s3:Bucket"
  properties {
    bucket = "b"
  }
}
# expect: 8: duplicate resource id 'logs' (first defined on line
