"""Plan: the change set per stage, its views and saved-plan files."""
