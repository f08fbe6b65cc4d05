"""Run ``kttt load …`` in this process and die with SIGKILL at a chosen point of its transaction
(used by tests/integration/test_faults.py).

    python crash_during_load.py MODE load PATH... --db DATABASE_URL [--until DATE]

MODE
  after-stage    the directive's fan-out has been inserted into the temporary staging table
                 (``kttt_stage_task``); the merge into ``task`` has not begun.
  mid-merge      the merge has inserted the new tasks (``INSERT INTO task``, with their
                 ``created`` history); changes and removals are not applied yet.
  before-commit  every statement of the load has run; the process dies where the transaction
                 would be committed (SQLAlchemy's ``commit`` event, before COMMIT is sent).

The fault is injected inside this real process, by listening to SQLAlchemy's engine events of the
library's own engine (``Engine`` class-wide, so the engine the command opens is hooked): the kill
lands between two SQL statements the command really sends, whatever the Python code around them is
called. Everything after ``MODE`` is the command line of ``kttt``, run through its real entry point.
If the point is never reached, the script says so and exits 3.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any


def die(why: str) -> None:
    print(why, flush=True)
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def statement_starts(statement: str, prefix: str) -> bool:
    return " ".join(statement.split()).upper().startswith(prefix.upper())


def main() -> None:
    mode, args = sys.argv[1], sys.argv[2:]
    from sqlalchemy import Engine, event

    wrote = {"any": False}

    def after(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if statement_starts(statement, "INSERT") or statement_starts(statement, "UPDATE"):
            wrote["any"] = True
        # The staging rows go in through the driver (COPY / executemany), which SQLAlchemy does
        # not see: the first statement that reads the staging table comes right after them.
        if (
            mode == "after-stage"
            and statement_starts(statement, "SELECT")
            and "KTTT_STAGE_TASK" in statement.upper()
        ):
            die("crashing after the staging insert, before the merge")
        if mode == "mid-merge" and statement_starts(statement, "INSERT INTO task "):
            die("crashing in the middle of the merge, after inserting the new tasks")

    def commit(conn: Any) -> None:
        if mode == "before-commit" and wrote["any"]:
            die("crashing before the commit of the load")

    if mode not in ("after-stage", "mid-merge", "before-commit"):
        raise SystemExit(f"unknown mode {mode!r}")
    event.listen(Engine, "after_cursor_execute", after)
    event.listen(Engine, "commit", commit)

    from kttt_workflow.cli import app

    try:
        app(args=args, prog_name="kttt")
    except SystemExit as e:
        print(f"not crashed (exit {e.code})", flush=True)
    raise SystemExit(3)


if __name__ == "__main__":
    main()
