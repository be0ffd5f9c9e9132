"""Pub/Sub and GCP label limits, each with the page that documents it."""

from __future__ import annotations

from provision.constraints import Each, Keys, Length, Pattern, Range

# "Resource names": 3-255 characters, starting with a letter, of letters, digits,
# dashes, underscores, periods, tildes, plus and percent signs; not starting with "goog".
NAMES = "https://cloud.google.com/pubsub/docs/pubsub-basics#resource_names"
# "Labels: requirements": at most 64 labels; keys 1-63 lowercase letters, digits,
# underscores and dashes, starting with a lowercase letter; values 0-63 of the same.
LABELS_DOCS = "https://cloud.google.com/resource-manager/docs/labels-overview#requirements"
# Subscription properties: ack deadline 10-600 seconds; retention 10 minutes to 7 days.
SUBSCRIPTION_DOCS = "https://cloud.google.com/pubsub/docs/subscription-properties"
# Topic message retention: 10 minutes to 31 days.
TOPIC_RETENTION_DOCS = "https://cloud.google.com/pubsub/docs/topic-properties"
# Dead-letter topics: maximum delivery attempts 5-100.
DEAD_LETTER_DOCS = "https://cloud.google.com/pubsub/docs/handling-failures"

ID = (
    Length(3, 255, source=NAMES),
    Pattern(r"[A-Za-z][A-Za-z0-9\-_.~+%]*", "letters, digits and - _ . ~ + %, starting with "
            "a letter", source=NAMES),
    Pattern(r"^(?i:goog)", "the prefix goog", forbid=True, source=NAMES),
)

LABELS = (
    Length(0, 64, source=LABELS_DOCS),
    Keys((Length(1, 63, source=LABELS_DOCS),
          Pattern(r"[a-z][a-z0-9_-]*", "lowercase letters, digits, '_' and '-', starting with "
                  "a lowercase letter", source=LABELS_DOCS))),
    Each((Length(0, 63, source=LABELS_DOCS),
          Pattern(r"[a-z0-9_-]*", "lowercase letters, digits, '_' and '-'",
                  source=LABELS_DOCS))),
)

DURATION = r"\d+(\.\d+)?s"


def retention(source: str) -> tuple[Pattern, ...]:
    """A duration in the API's JSON form (``"600s"``); the range is the service's to check."""
    return (Pattern(DURATION, "seconds with an 's' suffix, e.g. \"86400s\"", source=source),)


ACK_DEADLINE = (Range(10, 600, source=SUBSCRIPTION_DOCS),)
DELIVERY_ATTEMPTS = (Range(5, 100, source=DEAD_LETTER_DOCS),)
