"""``kttt``: the command line, a thin shell over :mod:`kttt_workflow.service`.

The commands live in :mod:`.commands` (the engine's use cases), :mod:`.report` (reports and
returned sheets) and :mod:`.prefect` (the local Prefect stack); importing them here registers
them on :data:`app`. Nothing heavy is imported
before a command runs, so ``kttt --help`` and ``kttt deadline`` start fast.
"""

from __future__ import annotations

from kttt_workflow.cli import commands, office, prefect, report  # noqa: F401  (registers them)
from kttt_workflow.cli.common import app

__all__ = ["app", "main"]


def main() -> None:  # pragma: no cover
    app()
