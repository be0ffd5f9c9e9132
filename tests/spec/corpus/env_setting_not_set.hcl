name = "t"
environment "dev" {
  aws = { region = "us-east-1" }
}
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs-${env.aws.regin}"   # <- error
  }
}
# expect: 8: ${env.aws.regin} is not set in environment 'dev' (did you mean 'aws.region'?)
