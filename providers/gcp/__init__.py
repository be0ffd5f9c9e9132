"""Google Cloud adapters (google-cloud-*, imported lazily)."""
