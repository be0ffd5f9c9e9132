"""The cloud adapters: one module per resource type, grouped by cloud.

``registry()`` is the composition root's view of them: an explicit map from
resource type name to ``"module:Class"``. Importing this package imports no
cloud SDK and no adapter module; an adapter module is imported when the
registry first resolves its type, and its SDK only when a method runs.

Adding an adapter: a module under ``providers/<cloud>/`` with a ``SCHEMA``
(:class:`~provision.provider.ResourceSchema`) and a class with ``schema`` and
create/read/update/delete; give its properties the cloud's documented limits
(``PropertySchema.constraints``, ``ResourceSchema.rules``, kinds in
:mod:`provision.constraints`, each citing its documentation page) so validation
refuses a bad value before any call; build SDK clients with that cloud's ``session``
module and wrap calls in ``session.translate(...)`` so SDK errors become
``CredentialsError``/``CloudError``; use ``providers.base`` for defaults and
update diffs; add one line to :data:`ADAPTERS`; add tests under
``tests/providers/<cloud>/`` (schema, error mapping, and a ``sandbox`` CRUD
round trip verified with the SDK directly). ``providers.testing`` holds a fake
adapter for tests that need no cloud.
"""

from __future__ import annotations

from provision.provider import AdapterRegistry

ADAPTERS: dict[str, str] = {
    "aws:s3:Bucket": "providers.aws.s3_bucket:S3Bucket",
    "aws:iam:Role": "providers.aws.iam_role:IamRole",
    "aws:ec2:Vpc": "providers.aws.ec2_vpc:Vpc",
    "aws:ec2:Subnet": "providers.aws.ec2_subnet:Subnet",
    "aws:ec2:SecurityGroup": "providers.aws.ec2_security_group:SecurityGroup",
    "aws:dynamodb:Table": "providers.aws.dynamodb_table:DynamoDbTable",
    "aws:sqs:Queue": "providers.aws.sqs_queue:SqsQueue",
    "azure:resources:ResourceGroup": "providers.azure.resource_group:ResourceGroup",
    "azure:storage:Account": "providers.azure.storage_account:StorageAccount",
    "azure:storage:BlobContainer": "providers.azure.blob_container:BlobContainer",
    "azure:network:VirtualNetwork": "providers.azure.virtual_network:VirtualNetwork",
    "azure:resources:Resource": "providers.azure.generic_resource:GenericResource",
    "gcp:storage:Bucket": "providers.gcp.storage_bucket:StorageBucket",
    "gcp:resourcemanager:Project": "providers.gcp.project:Project",
    "gcp:pubsub:Topic": "providers.gcp.pubsub_topic:PubSubTopic",
    "gcp:pubsub:Subscription": "providers.gcp.pubsub_subscription:PubSubSubscription",
}


# State stores for the environment lock and the run journal, by backend URL scheme
# (``file`` is built into provision.engine.statestore).
STATE_STORES: dict[str, str] = {
    "s3": "providers.aws.state_store:S3StateStore",
    "azblob": "providers.azure.state_store:AzureBlobStateStore",
    "gs": "providers.gcp.state_store:GCSStateStore",
}


def state_stores() -> dict[str, str]:
    """URL scheme -> ``"module:Class"`` of each cloud state store (no SDK imported)."""
    return dict(STATE_STORES)


def registry() -> AdapterRegistry:
    """The registry of every real cloud adapter."""
    return AdapterRegistry(ADAPTERS)


__all__ = ["ADAPTERS", "STATE_STORES", "registry", "state_stores"]
