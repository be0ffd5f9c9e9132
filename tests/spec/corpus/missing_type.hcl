name = "t"
resource "logs" {   # <- error
  properties {
    bucket = "logs"
  }
}
# expect: 2: resource has no 'type'
