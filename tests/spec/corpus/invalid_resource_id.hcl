name = "t"
resource "var" {   # <- error
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs"
  }
}
# expect: 2: invalid resource id 'var'
