name = "t"
environment "dev" {
  gcp = { project = "p1" }
}
resource "archive" {
  type = "gcp:storage:Bucket"
  properties {
    name = "archive"
    labels = {
      project = env.gcp.projekt   # <- error
    }
  }
}
# expect: 10: ${env.gcp.projekt} is not set in environment 'dev' (did you mean 'gcp.project'?)
