name = "t"
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs"
  }
}
resource "archive" {
  type = "gcp:storage:Bucket"
  properties {
    name = "archive"
    members = [
      {
        role   = "reader"
        source = logs.url   # <- error
      }
    ]
  }
}
# expect: 15: reference ${logs.url}: type 'aws:s3:Bucket' has no output 'url'
