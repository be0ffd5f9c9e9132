"""provision's own in-memory cloud API emulators (Azure Resource Manager, GCP Cloud Resource Manager)."""
