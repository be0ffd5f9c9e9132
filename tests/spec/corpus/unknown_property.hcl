name = "t"
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs"
    tagz   = { owner = "me" }   # <- error
  }
}
# expect: 6: unknown property 'tagz' for type 'aws:s3:Bucket' (did you mean 'tags'?)
