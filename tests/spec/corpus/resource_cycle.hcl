name = "t"
resource "a" {   # <- error
  type = "aws:s3:Bucket"
  properties {
    bucket = b.arn
  }
}
resource "b" {
  type = "aws:s3:Bucket"
  properties {
    bucket = c.arn
  }
}
resource "c" {
  type       = "aws:s3:Bucket"
  depends_on = [a]
  properties {
    bucket = "c"
  }
}
# expect: 2: dependency cycle between resources: a -> b -> c -> a
