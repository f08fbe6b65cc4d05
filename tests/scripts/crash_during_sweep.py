"""Run ``kttt sweep …`` in this process and die with SIGKILL at a chosen point (used by
tests/integration/test_faults.py).

    python crash_during_sweep.py MODE sweep --db DATABASE_URL --as-of DATE

MODE
  mid-record       inside the recording transaction: the first ledger rows have been inserted
                   (``INSERT INTO notice``), nothing is committed.
  after-record     the recording transaction (the sweep row and every notice) is committed; the
                   process dies at the next statement, where building the digests starts.
  between-digests  a first batch of two digests is committed (the sweep claims its digests by
                   batches, each in its own transaction; the batch is made two digests long here,
                   ``kttt_workflow.service._DIGEST_BATCH``); the process dies as the next batch is
                   about to be inserted (its ``INSERT INTO delivery``).

Sending comes after every digest is built: none of these points has sent anything. The fault is
injected inside this real process through SQLAlchemy's engine events (``Engine`` class-wide, so
the engine the command opens is hooked), between two SQL statements the command really sends.
Everything after ``MODE`` is the command line of ``kttt``, run through its real entry point. If the
point is never reached, the script says so and exits 3.
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


def has(statement: str, fragment: str) -> bool:
    return fragment.upper() in " ".join(statement.split()).upper() + " "


def main() -> None:
    mode, args = sys.argv[1], sys.argv[2:]
    from sqlalchemy import Engine, event

    state = {"notices_in_tx": False, "recorded": False, "digests": 0}

    def before(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if mode == "after-record" and state["recorded"]:
            die("crashing after recording the notices, before building the digests")
        if has(statement, "INSERT INTO delivery "):  # one statement per batch of digests
            if mode == "between-digests" and state["digests"] == 1:
                die("crashing between two batches of digests (2 committed)")
            state["digests"] += 1

    def after(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if has(statement, "INSERT INTO notice "):
            state["notices_in_tx"] = True
            if mode == "mid-record":
                die("crashing while recording the notices, before the commit")

    def commit(conn: Any) -> None:  # fires before COMMIT is sent; the next statement is after it
        if state["notices_in_tx"]:
            state["recorded"] = True

    if mode not in ("mid-record", "after-record", "between-digests"):
        raise SystemExit(f"unknown mode {mode!r}")
    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    event.listen(Engine, "commit", commit)

    from kttt_workflow.cli import app

    if mode == "between-digests":
        import kttt_workflow.service as service

        service._DIGEST_BATCH = 2  # several batches from the few units of the test's registry

    try:
        app(args=args, prog_name="kttt")
    except SystemExit as e:
        print(f"not crashed (exit {e.code})", flush=True)
    raise SystemExit(3)


if __name__ == "__main__":
    main()
