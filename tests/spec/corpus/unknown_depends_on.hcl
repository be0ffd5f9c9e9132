name = "t"
resource "network" {
  type = "azure:resources:ResourceGroup"
  properties {
    name = "net"
  }
}
resource "logs" {   # <- error
  type       = "aws:s3:Bucket"
  depends_on = ["networkk"]
  properties {
    bucket = "logs"
  }
}
# expect: 8: depends_on names unknown resource 'networkk' (did you mean 'network'?)
