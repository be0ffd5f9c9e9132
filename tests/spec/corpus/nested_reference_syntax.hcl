name = "t"
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs"
    tags = {
      a = "ok"
      b = "x-${var.a.b}"   # <- error
    }
  }
}
# expect: 8: bad variable reference '${var.a.b}'
