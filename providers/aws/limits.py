"""AWS limits shared by several resource types, each with the page that documents it.

Type-specific limits live in the type's module beside its schema; these are the
ones AWS states once for many services (tags, ARNs).
"""

from __future__ import annotations

from provision.constraints import Each, Keys, Length, Pattern

# "Tag naming limits and requirements": at most 50 user tags per resource; keys 1-128
# and values 0-256 Unicode characters; the aws: prefix is reserved for AWS.
TAGGING = "https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html"

TAGS = (
    Length(0, 50, source=TAGGING),
    Keys((Length(1, 128, source=TAGGING),
          Pattern(r"(?i)^aws:", "the aws: prefix is reserved for AWS", forbid=True,
                  source=TAGGING))),
    Each((Length(0, 256, source=TAGGING),)),
)

# "Amazon Resource Names (ARNs)": arn:partition:service:region:account-id:resource.
ARNS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html"

ARN = Pattern(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}|aws)?:.+",
              "an ARN: arn:partition:service:region:account-id:resource", source=ARNS)
