name = "t"
resource "q" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "orders"
  }
}
resource "queue" {   # <- error
  type       = "aws:s3:Bucket"
  moved_from = "q"
  properties {
    bucket = "jobs"
  }
}
# expect: 8: moved_from names 'q', which is still a resource of the spec (rename or remove 'q', or drop moved_from)
