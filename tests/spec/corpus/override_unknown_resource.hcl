name = "t"
environment "dev" {   # <- error
  overrides = {
    log = { tags = { tier = "dev" } }
  }
}
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs"
  }
}
# expect: 2: environment 'dev' overrides unknown resource 'log' (did you mean 'logs'?)
