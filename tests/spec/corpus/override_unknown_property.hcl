name = "t"
environment "dev" {   # <- error
  overrides = {
    logs = { tag = { tier = "dev" } }
  }
}
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs"
  }
}
# expect: 2: environment 'dev' overrides unknown property 'tag' of 'logs' (did you mean 'tags'?)
