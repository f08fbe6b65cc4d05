"""The project's errors, in the user's terms: file, line, column and a Vietnamese message.

Every layer raises these (input checks, the store, the service); the shells print them.
"""

from __future__ import annotations

from dataclasses import dataclass

from kttt_workflow.domain.text import nfc


@dataclass(frozen=True, order=True)
class Issue:
    """One problem found in an input file. ``line`` and ``column`` are 1-based (0 = unknown)."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return nfc(f"{self.file}:{self.line}:{self.column}: {self.message}")


class InputError(Exception):
    """Raised when input files are invalid. Nothing has been written when this is raised."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = sorted(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


class KtttError(Exception):
    """A user-facing error of an operation (unknown task, wrong state…); message in Vietnamese."""

    def __init__(self, message: str) -> None:
        super().__init__(nfc(message))
