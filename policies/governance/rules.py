"""Governance rules in Python: required tags/labels, location allow-list, naming convention.

Listed explicitly in ``RULES``; parameters (per environment) come from pack.yaml.
"""

from __future__ import annotations

import re

from provision.policy.inputs import Subject
from provision.policy.rules import Deferred, RuleContext, rule
from provision.vocabulary import Action

# Where each resource type keeps its tags, its location and its name.
# Every type that always takes tags or labels is listed. Left out: a blob container
# (metadata, not tags) and the generic ARM resource, whose tags and location depend
# on its ARM type (a Service Bus queue, a child resource, has neither).
TAG_PROPERTY = {
    "aws:s3:Bucket": "tags",
    "aws:iam:Role": "tags",
    "aws:ec2:Vpc": "tags",
    "aws:ec2:Subnet": "tags",
    "aws:ec2:SecurityGroup": "tags",
    "aws:dynamodb:Table": "tags",
    "aws:sqs:Queue": "tags",
    "azure:resources:ResourceGroup": "tags",
    "azure:storage:Account": "tags",
    "azure:network:VirtualNetwork": "tags",
    "gcp:storage:Bucket": "labels",
    "gcp:resourcemanager:Project": "labels",
    "gcp:pubsub:Topic": "labels",
    "gcp:pubsub:Subscription": "labels",
}
# AWS resources other than buckets live in the provider's region (the environment's
# settings), not in a property, so only the bucket's reported region is checked. Before
# apply a region or location the spec leaves out is the environment's setting (the
# adapter schema's ``setting_defaults``); without that setting it is known only after apply.
LOCATION_PROPERTY = {
    "aws:s3:Bucket": "region",            # an output: the environment's aws region
    "azure:resources:ResourceGroup": "location",
    "azure:storage:Account": "location",
    "azure:network:VirtualNetwork": "location",
    "gcp:storage:Bucket": "location",
}
NAME_PROPERTY = {
    "aws:s3:Bucket": "bucket",
    "aws:iam:Role": "name",
    "aws:ec2:SecurityGroup": "name",
    "aws:dynamodb:Table": "name",
    "aws:sqs:Queue": "name",
    "azure:resources:ResourceGroup": "name",
    "azure:storage:Account": "name",
    "azure:storage:BlobContainer": "name",
    "azure:network:VirtualNetwork": "name",
    "gcp:storage:Bucket": "name",
    "gcp:resourcemanager:Project": "project_id",
    "gcp:pubsub:Topic": "name",
    "gcp:pubsub:Subscription": "name",
}


@rule(id="PRV-GOV-001", title="Resources carry owner, env and cost-center tags/labels",
      severity="medium", resource_types=list(TAG_PROPERTY),
      remediation="add the missing keys to the resource's tags (AWS, Azure) or labels (GCP)")
def required_tags(subject: Subject, ctx: RuleContext) -> str | None:
    prop = TAG_PROPERTY[subject.type]
    tags = subject.get(prop) or {}
    # Only the required keys matter: another tag known after apply defers nothing.
    missing = [k for k in ctx.params.get("required_tags", []) if not tags.get(k)]
    unknown = [k for k in missing if subject.unknown_at(f"{prop}.{k}")]
    definitely = [k for k in missing if k not in unknown]
    if definitely:
        return f"{prop} missing: {', '.join(definitely)}"
    if unknown:
        raise Deferred(f"{prop}.{unknown[0]} is known only after apply")
    return None


@rule(id="PRV-GOV-002", title="Resources live in an allowed region/location",
      severity="high", resource_types=list(LOCATION_PROPERTY), reads=["location", "region"],
      remediation="deploy to one of the environment's allowed locations (see pack.yaml)")
def allowed_location(subject: Subject, ctx: RuleContext) -> str | None:
    """The message says what the plan does: a create puts the resource in the location,
    an update or replace moves it there (or leaves it where the allow-list no longer
    allows it); after apply, the live resource is where it is."""
    prop = LOCATION_PROPERTY[subject.type]
    value = subject.get(prop)
    if value is None:
        if ctx.phase == "pre":
            raise Deferred(f"{prop} is known only after apply")
        return f"{prop} is not reported"
    allowed = [str(a).lower() for a in ctx.params.get("allowed_locations", [])]
    if str(value).lower() in allowed:
        return None
    refused = f"not allowed in {ctx.env} (allowed: {', '.join(allowed)})"
    if subject.action == Action.CREATE:
        return f"creating it in {prop} '{value}', which is {refused}"
    if subject.action in (Action.UPDATE, Action.REPLACE):
        old = (subject.before or {}).get(prop)
        if old is not None and str(old).lower() != str(value).lower():
            return f"changing {prop} from '{old}' to '{value}', which is {refused}"
        return f"{prop} '{value}' (left as it is by this {subject.action}) is {refused}"
    return f"{prop} '{value}' is {refused}"


@rule(id="PRV-GOV-003", title="Names follow the naming convention",
      severity="low", resource_types=list(NAME_PROPERTY), reads=["bucket", "name", "project_id"],
      remediation="rename the resource to match the pattern for its type (see pack.yaml)")
def naming_convention(subject: Subject, ctx: RuleContext) -> str | None:
    prop = NAME_PROPERTY[subject.type]
    name = subject.get(prop)
    pattern = ctx.params.get("name_patterns", {}).get(subject.type)
    if name is None or not pattern:
        return None
    if not re.fullmatch(pattern, str(name)):
        return f"{prop} '{name}' does not match {pattern}"
    return None


RULES = [required_tags, allowed_location, naming_convention]
