"""Prefect flows: thin tables of contents over ``kttt_workflow`` (no logic lives only here)."""
