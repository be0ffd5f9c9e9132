name = "t"
environment "dev" {
  overrides = {
    logs = { tag = { tier = "dev" } }   # <- error
  }
}
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs"
  }
}
# expect: 4: environment 'dev' overrides unknown property 'tag' of 'logs' (did you mean 'tags'?)
