"""Azure adapters (azure-mgmt-* and azure-storage-blob, imported lazily)."""
