name = "t"
resource "network" {
  type = "azure:resources:ResourceGroup"
  properties {
    name = "net"
  }
}
resource "logs" {
  type       = "aws:s3:Bucket"
  depends_on = ["networkk"]   # <- error
  properties {
    bucket = "logs"
  }
}
# expect: 10: depends_on names unknown resource 'networkk' (did you mean 'network'?)
