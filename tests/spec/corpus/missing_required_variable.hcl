name = "t"
variable "owner" {
  type = string
}
environment "dev" {
  variables = { owner = "me" }
}
environment "prod" {   # <- error
  aws = { region = "eu-west-1" }
}
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs-${var.owner}"
  }
}
# expect: 8: missing required variable 'owner' in environment 'prod'
