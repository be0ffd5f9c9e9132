name = "t"
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket     = "logs"
    versioning = "yes please"   # <- error
  }
}
# expect: 6: property 'versioning' must be boolean, got string 'yes please'
