"""``kttt`` commands that involve Prefect (registered on the main ``app``)."""

from __future__ import annotations

from kttt_workflow.cli import app

__all__ = ["app"]
