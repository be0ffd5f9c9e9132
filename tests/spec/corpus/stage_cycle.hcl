name = "t"
resource "logs" {   # <- error
  type = "aws:s3:Bucket"
  properties {
    bucket = rg.resource_id
  }
}
resource "rg" {
  type = "azure:resources:ResourceGroup"
  properties {
    name = "rg"
  }
}
resource "audit" {
  type = "azure:resources:ResourceGroup"
  properties {
    name = logs.arn
  }
}
resource "later" {
  type = "aws:s3:Bucket"
  properties {
    bucket = audit.resource_id
  }
}
# expect: 2: dependency cycle between stages: aws -> azure -> aws
