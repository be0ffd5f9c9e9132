"""Spec: read YAML/HCL into the located model, validate, resolve variables."""
