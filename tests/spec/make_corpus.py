"""Regenerate tests/spec/corpus/: one broken spec per case, in YAML and HCL.

Lines marked `#!` carry the expected errors (in order); each file gets them as
`# expect: <line>: <text>` comments at its end, which test_spec_corpus.py checks.
A message may be a (yaml, hcl) pair when the two forms word it differently.
Run: .venv/bin/python tests/spec/make_corpus.py
"""
import sys
from pathlib import Path
OUT = Path(__file__).resolve().parent / "corpus"
cases = []
def case(name, messages, yaml, hcl):
    cases.append((name, messages, yaml.lstrip("\n"), hcl.lstrip("\n")))

case("syntax_error", ["syntax error"], """
name: broken
resources:
  logs:
    type: aws:s3:Bucket
    properties: {bucket: "x", tags: [a, b}   #!
""", """
name = "broken"
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "x"
    tags = { a = 1 b }   #!
  }
}
""")

case("unknown_type", ["unknown resource type 'aws:s3:Buckt' (did you mean 'aws:s3:Bucket'?)"], """
name: t
resources:
  logs:
    type: aws:s3:Buckt   #!
    properties: {bucket: logs}
""", """
name = "t"
resource "logs" {
  type = "aws:s3:Buckt"   #!
  properties {
    bucket = "logs"
  }
}
""")

case("unknown_property", ["unknown property 'tagz' for type 'aws:s3:Bucket' (did you mean 'tags'?)"], """
name: t
resources:
  logs:
    type: aws:s3:Bucket
    properties:
      bucket: logs
      tagz: {owner: me}   #!
""", """
name = "t"
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs"
    tagz   = { owner = "me" }   #!
  }
}
""")

case("mistyped_string", ["property 'bucket' must be string, got integer 42"], """
name: t
resources:
  logs:
    type: aws:s3:Bucket
    properties:
      bucket: 42   #!
""", """
name = "t"
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = 42   #!
  }
}
""")

case("mistyped_boolean", ["property 'versioning' must be boolean, got string 'yes please'"], """
name: t
resources:
  logs:
    type: aws:s3:Bucket
    properties:
      bucket: logs
      versioning: yes please   #!
""", """
name = "t"
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket     = "logs"
    versioning = "yes please"   #!
  }
}
""")

case("mistyped_map", ["property 'tags' must be map, got list"], """
name: t
resources:
  logs:
    type: aws:s3:Bucket
    properties:
      bucket: logs
      tags: [a, b]   #!
""", """
name = "t"
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs"
    tags   = ["a", "b"]   #!
  }
}
""")

case("mistyped_integer_from_variable", ["property 'lifecycle_days' must be integer, got string ${var.days}"], """
name: t
variables:
  days: {type: string, default: "30"}
resources:
  logs:
    type: aws:s3:Bucket
    properties:
      bucket: logs
      lifecycle_days: "${var.days}"   #!
""", """
name = "t"
variable "days" {
  type    = string
  default = "30"
}
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket         = "logs"
    lifecycle_days = var.days   #!
  }
}
""")

case("unknown_reference_target", ["reference ${log.arn} names unknown resource 'log' (did you mean 'logs'?)"], """
name: t
resources:
  logs:
    type: aws:s3:Bucket
    properties: {bucket: logs}
  rg:
    type: azure:resources:ResourceGroup
    properties:
      name: rg
      tags: {arn: "${log.arn}"}   #!
""", """
name = "t"
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs"
  }
}
resource "rg" {
  type = "azure:resources:ResourceGroup"
  properties {
    name = "rg"
    tags = { arn = log.arn }   #!
  }
}
""")

case("unknown_output", ["reference ${logs.ar}: type 'aws:s3:Bucket' has no output 'ar' (did you mean 'arn'?)"], """
name: t
resources:
  logs:
    type: aws:s3:Bucket
    properties: {bucket: logs}
  rg:
    type: azure:resources:ResourceGroup
    properties:
      name: "rg-${logs.ar}"   #!
""", """
name = "t"
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs"
  }
}
resource "rg" {
  type = "azure:resources:ResourceGroup"
  properties {
    name = "rg-${logs.ar}"   #!
  }
}
""")

case("duplicate_resource_id", ["duplicate resource id 'logs' (first defined on line"], """
name: t
resources:
  logs:
    type: aws:s3:Bucket
    properties: {bucket: a}
  logs:   #!
    type: aws:s3:Bucket
    properties: {bucket: b}
""", """
name = "t"
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "a"
  }
}
resource "logs" {   #!
  type = "aws:s3:Bucket"
  properties {
    bucket = "b"
  }
}
""")

case("missing_required_variable", ["missing required variable 'owner' in environment 'prod'"], """
name: t
variables:
  owner: {type: string}
environments:
  dev:
    variables: {owner: me}
  prod:   #!
    aws: {region: eu-west-1}
resources:
  logs:
    type: aws:s3:Bucket
    properties: {bucket: "logs-${var.owner}"}
""", """
name = "t"
variable "owner" {
  type = string
}
environment "dev" {
  variables = { owner = "me" }
}
environment "prod" {   #!
  aws = { region = "eu-west-1" }
}
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs-${var.owner}"
  }
}
""")

case("resource_cycle", ["dependency cycle between resources: a -> b -> c -> a"], """
name: t
resources:
  a:   #!
    type: aws:s3:Bucket
    properties: {bucket: "${b.arn}"}
  b:
    type: aws:s3:Bucket
    properties: {bucket: "${c.arn}"}
  c:
    type: aws:s3:Bucket
    depends_on: [a]
    properties: {bucket: c}
""", """
name = "t"
resource "a" {   #!
  type = "aws:s3:Bucket"
  properties {
    bucket = b.arn
  }
}
resource "b" {
  type = "aws:s3:Bucket"
  properties {
    bucket = c.arn
  }
}
resource "c" {
  type       = "aws:s3:Bucket"
  depends_on = [a]
  properties {
    bucket = "c"
  }
}
""")

case("self_reference", ["dependency cycle between resources: a -> a"], """
name: t
resources:
  a:   #!
    type: aws:s3:Bucket
    properties: {bucket: x, tags: {me: "${a.arn}"}}
""", """
name = "t"
resource "a" {   #!
  type = "aws:s3:Bucket"
  properties {
    bucket = "x"
    tags   = { me = a.arn }
  }
}
""")

case("stage_cycle", ["dependency cycle between stages: aws -> azure -> aws"], """
name: t
resources:
  logs:   #!
    type: aws:s3:Bucket
    properties: {bucket: "${rg.resource_id}"}
  rg:
    type: azure:resources:ResourceGroup
    properties: {name: rg}
  audit:
    type: azure:resources:ResourceGroup
    properties: {name: "${logs.arn}"}
  later:
    type: aws:s3:Bucket
    properties: {bucket: "${audit.resource_id}"}
""", """
name = "t"
resource "logs" {   #!
  type = "aws:s3:Bucket"
  properties {
    bucket = rg.resource_id
  }
}
resource "rg" {
  type = "azure:resources:ResourceGroup"
  properties {
    name = "rg"
  }
}
resource "audit" {
  type = "azure:resources:ResourceGroup"
  properties {
    name = logs.arn
  }
}
resource "later" {
  type = "aws:s3:Bucket"
  properties {
    bucket = audit.resource_id
  }
}
""")

case("unknown_variable_reference", ["unknown variable 'ownr' in ${var.ownr} (did you mean 'owner'?)"], """
name: t
variables:
  owner: {default: me}
resources:
  logs:
    type: aws:s3:Bucket
    properties: {bucket: "logs-${var.ownr}"}   #!
""", """
name = "t"
variable "owner" {
  default = "me"
}
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs-${var.ownr}"   #!
  }
}
""")

case("unknown_top_level_key", [("unknown top-level key 'variable' (did you mean 'variables'?)", "unknown top-level block or attribute 'variabels' (did you mean 'variable'?)")], """
name: t
variable:   #!
  owner: {default: me}
resources: {}
""", """
name = "t"
variabels = {   #!
  owner = { default = "me" }
}
""")

case("unknown_resource_key", ["unknown resource key 'propertes' (did you mean 'properties'"], """
name: t
resources:
  logs:
    type: aws:s3:Bucket
    propertes: {bucket: logs}   #!
""", """
name = "t"
resource "logs" {
  type = "aws:s3:Bucket"
  propertes {   #!
    bucket = "logs"
  }
}
""")

case("missing_type", ["resource has no 'type'"], """
name: t
resources:
  logs:   #!
    properties: {bucket: logs}
""", """
name = "t"
resource "logs" {   #!
  properties {
    bucket = "logs"
  }
}
""")

case("malformed_type", ["malformed resource type 's3-bucket'"], """
name: t
resources:
  logs:
    type: s3-bucket   #!
    properties: {bucket: logs}
""", """
name = "t"
resource "logs" {
  type = "s3-bucket"   #!
  properties {
    bucket = "logs"
  }
}
""")

case("moved_from_still_in_spec", ["moved_from names 'q', which is still a resource of the "
                                  "spec (rename or remove 'q', or drop moved_from)"], """
name: t
resources:
  q:
    type: aws:s3:Bucket
    properties: {bucket: orders}
  queue:   #!
    type: aws:s3:Bucket
    moved_from: q
    properties: {bucket: jobs}
""", """
name = "t"
resource "q" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "orders"
  }
}
resource "queue" {   #!
  type       = "aws:s3:Bucket"
  moved_from = "q"
  properties {
    bucket = "jobs"
  }
}
""")

case("unknown_depends_on", ["depends_on names unknown resource 'networkk' (did you mean 'network'?)"], """
name: t
resources:
  network:
    type: azure:resources:ResourceGroup
    properties: {name: net}
  logs:
    type: aws:s3:Bucket
    depends_on: [networkk]   #!
    properties: {bucket: logs}
""", """
name = "t"
resource "network" {
  type = "azure:resources:ResourceGroup"
  properties {
    name = "net"
  }
}
resource "logs" {
  type       = "aws:s3:Bucket"
  depends_on = ["networkk"]   #!
  properties {
    bucket = "logs"
  }
}
""")

case("env_setting_not_set", ["${env.aws.regin} is not set in environment 'dev' (did you mean 'aws.region'?)"], """
name: t
environments:
  dev:
    aws: {region: us-east-1}
resources:
  logs:
    type: aws:s3:Bucket
    properties:
      bucket: "logs-${env.aws.regin}"   #!
""", """
name = "t"
environment "dev" {
  aws = { region = "us-east-1" }
}
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs-${env.aws.regin}"   #!
  }
}
""")

case("override_unknown_resource", ["environment 'dev' overrides unknown resource 'log' (did you mean 'logs'?)"], """
name: t
environments:
  dev:
    overrides:
      log: {tags: {tier: dev}}   #!
resources:
  logs:
    type: aws:s3:Bucket
    properties: {bucket: logs}
""", """
name = "t"
environment "dev" {
  overrides = {
    log = { tags = { tier = "dev" } }   #!
  }
}
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs"
  }
}
""")

case("override_unknown_property", ["environment 'dev' overrides unknown property 'tag' of 'logs' (did you mean 'tags'?)"], """
name: t
environments:
  dev:
    overrides:
      logs: {tag: {tier: dev}}   #!
resources:
  logs:
    type: aws:s3:Bucket
    properties: {bucket: logs}
""", """
name = "t"
environment "dev" {
  overrides = {
    logs = { tag = { tier = "dev" } }   #!
  }
}
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs"
  }
}
""")

case("variable_default_type", ["default of variable 'days' is a string, not number"], """
name: t
variables:
  days:
    type: number
    default: thirty   #!
resources: {}
""", """
name = "t"
variable "days" {
  type    = number
  default = "thirty"   #!
}
""")

case("missing_required_property", ["missing required property 'bucket' for type 'aws:s3:Bucket'"], """
name: t
resources:
  logs:   #!
    type: aws:s3:Bucket
    properties: {tags: {a: b}}
""", """
name = "t"
resource "logs" {   #!
  type = "aws:s3:Bucket"
  properties {
    tags = { a = "b" }
  }
}
""")

case("unsupported_expression", ["unsupported expression '${upper(var.owner)}'"], """
name: t
variables:
  owner: {default: me}
resources:
  logs:
    type: aws:s3:Bucket
    properties: {bucket: "${upper(var.owner)}"}   #!
""", """
name = "t"
variable "owner" {
  default = "me"
}
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = upper(var.owner)   #!
  }
}
""")

case("missing_name", ["the spec needs a 'name'"], """
resources:   #!
  logs:
    type: aws:s3:Bucket
    properties: {bucket: logs}
""", """
resource "logs" {   #!
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs"
  }
}
""")

case("unknown_environment_key", ["unknown environment key 'protectd' (did you mean 'protected'?)"], """
name: t
environments:
  prod:
    protectd: true   #!
resources: {}
""", """
name = "t"
environment "prod" {
  protectd = true   #!
}
""")

case("reference_without_output", ["reference '${logs}' names no output"], """
name: t
resources:
  logs:
    type: aws:s3:Bucket
    properties: {bucket: logs}
  rg:
    type: azure:resources:ResourceGroup
    properties:
      name: "${logs}"   #!
""", """
name = "t"
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs"
  }
}
resource "rg" {
  type = "azure:resources:ResourceGroup"
  properties {
    name = "${logs}"   #!
  }
}
""")

case("unknown_variable_type", ["variable 'tags' has unknown type 'mapp' (did you mean 'map'?)"], """
name: t
variables:
  tags:
    type: mapp   #!
resources: {}
""", """
name = "t"
variable "tags" {
  type = mapp   #!
}
""")

case("duplicate_property", ["duplicate key 'bucket' (first defined on line"], """
name: t
resources:
  logs:
    type: aws:s3:Bucket
    properties:
      bucket: a
      bucket: b   #!
""", """
name = "t"
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "a"
    bucket = "b"   #!
  }
}
""")

case("env_sets_unknown_variable", ["environment 'dev' sets unknown variable 'ownr' (did you mean 'owner'?)"], """
name: t
variables:
  owner: {default: me}
environments:
  dev:   #!
    variables: {ownr: you}
resources: {}
""", """
name = "t"
variable "owner" {
  default = "me"
}
environment "dev" {   #!
  variables = { ownr = "you" }
}
""")

case("unterminated_reference", [("unterminated or nested reference in 'logs-${var.owner' (close each ${ with }; write $${ for a literal ${)", "HCL syntax error: unexpected")], """
name: t
resources:
  logs:
    type: aws:s3:Bucket
    properties: {bucket: "logs-${var.owner"}   #!
""", """
name = "t"
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs-$${var.owner"
    tags   = { a = "${oops" }   #!
  }
}
""")

case("many_errors_at_once", [
    "unknown resource type 'gcp:storage:Bukket'",
    "unknown property 'bucket' for type 'azure:resources:ResourceGroup' (expected one of: location, name, tags)",
    "reference ${nope.id} names unknown resource 'nope' (expected one of: archive, rg)",
], """
name: t
resources:
  archive:
    type: gcp:storage:Bukket   #!
    properties: {name: a}
  rg:
    type: azure:resources:ResourceGroup
    properties:
      name: rg
      bucket: x   #!
      tags: {n: "${nope.id}"}   #!
""", """
name = "t"
resource "archive" {
  type = "gcp:storage:Bukket"   #!
  properties {
    name = "a"
  }
}
resource "rg" {
  type = "azure:resources:ResourceGroup"
  properties {
    name   = "rg"
    bucket = "x"   #!
    tags   = { n = nope.id }   #!
  }
}
""")

case("invalid_resource_id", ["invalid resource id 'var'"], """
name: t
resources:
  var:   #!
    type: aws:s3:Bucket
    properties: {bucket: logs}
""", """
name = "t"
resource "var" {   #!
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs"
  }
}
""")

case("not_a_map", ["'resources' must be a map, got a list"], """
name: t
resources:   #!
  - logs
  - rg
""", """
name = "t"
resources = ["logs", "rg"]   #!
""")

case("mistyped_variable_value", ["environment 'dev' sets variable 'days' to a value that is not a number"], """
name: t
variables:
  days: {type: number, default: 3}
environments:
  dev:   #!
    variables: {days: many}
resources: {}
""", """
name = "t"
variable "days" {
  type    = number
  default = 3
}
environment "dev" {   #!
  variables = { days = "many" }
}
""")

case("nested_unknown_variable", ["unknown variable 'ownr' in ${var.ownr} (did you mean 'owner'?)"], """
name: t
variables:
  owner: {default: me}
resources:
  logs:
    type: aws:s3:Bucket
    properties:
      bucket: logs
      tags:
        team: platform
        owner: "${var.ownr}"   #!
""", """
name = "t"
variable "owner" {
  default = "me"
}
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs"
    tags = {
      team  = "platform"
      owner = var.ownr   #!
    }
  }
}
""")

case("nested_unknown_output", ["reference ${logs.url}: type 'aws:s3:Bucket' has no output 'url'"], """
name: t
resources:
  logs:
    type: aws:s3:Bucket
    properties: {bucket: logs}
  archive:
    type: gcp:storage:Bucket
    properties:
      name: archive
      members:
        - role: reader
          source: "${logs.url}"   #!
""", """
name = "t"
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs"
  }
}
resource "archive" {
  type = "gcp:storage:Bucket"
  properties {
    name = "archive"
    members = [
      {
        role   = "reader"
        source = logs.url   #!
      }
    ]
  }
}
""")

case("nested_env_setting", ["${env.gcp.projekt} is not set in environment 'dev' (did you mean 'gcp.project'?)"], """
name: t
environments:
  dev:
    gcp: {project: p1}
resources:
  archive:
    type: gcp:storage:Bucket
    properties:
      name: archive
      labels:
        project: "${env.gcp.projekt}"   #!
""", """
name = "t"
environment "dev" {
  gcp = { project = "p1" }
}
resource "archive" {
  type = "gcp:storage:Bucket"
  properties {
    name = "archive"
    labels = {
      project = env.gcp.projekt   #!
    }
  }
}
""")

case("nested_reference_syntax", ["bad variable reference '${var.a.b}'"], """
name: t
resources:
  logs:
    type: aws:s3:Bucket
    properties:
      bucket: logs
      tags:
        a: ok
        b: "x-${var.a.b}"   #!
""", """
name = "t"
resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs"
    tags = {
      a = "ok"
      b = "x-${var.a.b}"   #!
    }
  }
}
""")

for name, messages, yaml_text, hcl_text in cases:
    for ext, text in (("yaml", yaml_text), ("hcl", hcl_text)):
        lines = text.splitlines()
        marked = [i + 1 for i, l in enumerate(lines) if "#!" in l]
        if len(marked) != len(messages):
            sys.exit(f"{name}.{ext}: {len(marked)} markers for {len(messages)} messages")
        msgs = [m if isinstance(m, str) else m[ext == "hcl"] for m in messages]
        body = "\n".join(l.replace("#!", "# <- error") for l in lines)
        footer = "\n".join(f"# expect: {ln}: {msg}" for ln, msg in zip(marked, msgs))
        (OUT / f"{name}.{ext}").write_text(body + "\n" + footer + "\n")
print(len(cases), "cases,", 2 * len(cases), "files")
