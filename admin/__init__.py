"""Operator work on the hub, shared by the admin API (`api/admin.py`) and the CLI (`cli/`)."""
