"""AWS adapters (boto3, imported lazily inside each adapter's methods)."""
