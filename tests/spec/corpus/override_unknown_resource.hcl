name = "t"
environment "dev" {
  overrides = {
    log = { tags = { tier = "dev" } }   # <- error
  }
}
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs"
  }
}
# expect: 4: environment 'dev' overrides unknown resource 'log' (did you mean 'logs'?)
