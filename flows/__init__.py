"""Prefect flows: tables of contents over ``kttt_workflow.service`` (no logic lives only here).

Each file stands alone (it imports only ``kttt_workflow`` and ``prefect``), so Prefect can load it
from its ``prefect.yaml`` entrypoint as a script, in a checkout or from the wheel's copy.
"""
