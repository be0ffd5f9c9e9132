name = "t"
resource "logs" {
  type = "aws:s3:Bucket"
  propertes {   # <- error
    bucket = "logs"
  }
}
# expect: 4: unknown resource key 'propertes' (did you mean 'properties'
