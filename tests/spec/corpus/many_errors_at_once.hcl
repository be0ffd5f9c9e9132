name = "t"
resource "archive" {
  type = "gcp:storage:Bukket"   # <- error
  properties {
    name = "a"
  }
}
resource "rg" {
  type = "azure:resources:ResourceGroup"
  properties {
    name   = "rg"
    bucket = "x"   # <- error
    tags   = { n = nope.id }   # <- error
  }
}
# expect: 3: unknown resource type 'gcp:storage:Bukket'
# expect: 12: unknown property 'bucket' for type 'azure:resources:ResourceGroup' (expected one of: location, name, tags)
# expect: 13: reference ${nope.id} names unknown resource 'nope' (expected one of: archive, rg)
