# The same stack as multicloud.yaml, in HCL.
name    = "multicloud"
backend = "file://.provision/state"

variable "owner" {
  type    = string
  default = "platform-team"
}

variable "retention_days" {
  type    = number
  default = 30
}

environment "local" {
  aws       = { region = "us-east-1" }
  azure     = { location = "westeurope" }
  gcp       = { project = "provision-local", region = "europe-west1" }
  variables = { owner = "me" }
  overrides = {
    logs = { tags = { tier = "dev" } }
  }
}

environment "prod" {
  protected = true
  aws       = { region = "eu-west-1" }
  azure     = { location = "northeurope" }
  gcp       = { project = "provision-prod", region = "europe-west4" }
}

resource "logs" {
  type  = "aws:s3:Bucket"
  stage = "storage"
  properties {
    bucket = "logs-${var.owner}-${env.name}"
    tags   = { owner = var.owner, region = env.aws.region }
  }
}

resource "rg" {
  type = "azure:resources:ResourceGroup"
  properties {
    name     = "rg-multicloud"
    location = env.azure.location
    tags     = { logs_arn = logs.arn }
  }
}

resource "archive" {
  type       = "gcp:storage:Bucket"
  stage      = "archive"
  depends_on = [rg]
  protect    = true
  properties {
    name     = "archive-${var.owner}"
    location = "EU"
    labels   = { source = "${logs.bucket}" }
  }
}
