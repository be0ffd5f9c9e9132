name = "t"
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs"
  }
}
resource "rg" {
  type = "azure:resources:ResourceGroup"
  properties {
    name = "${logs}"   # <- error
  }
}
# expect: 11: reference '${logs}' names no output
