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
    name = "rg-${logs.ar}"   # <- error
  }
}
# expect: 11: reference ${logs.ar}: type 'aws:s3:Bucket' has no output 'ar' (did you mean 'arn'?)
