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
    name = "rg"
    tags = { arn = log.arn }   # <- error
  }
}
# expect: 12: reference ${log.arn} names unknown resource 'log' (did you mean 'logs'?)
