"""Die with SIGKILL at a chosen point of a sweep (used by tests/integration/test_delivery_reliability.py).

    python crash_during_delivery.py MODE DATABASE_URL AS_OF

MODE
  before-send  the notices and the digests are committed, then the process dies where sending
               would start (``Tracker._deliver`` is entered): nothing was sent.
  after-send   the real ``kttt_workflow.notify.send.send`` runs for the first digest; as soon as a
               target has accepted it, the process dies, before the attempt is recorded (the
               documented duplicate window).

The database URL carries everything needed to reach the store (for PostgreSQL, the schema via
``?options=-csearch_path%3D...``). Only 127.0.0.1 targets are configured by the tests.
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import date


def die() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    mode, url, as_of = sys.argv[1], sys.argv[2], date.fromisoformat(sys.argv[3])

    from kttt_workflow.config import OutboxSettings
    from kttt_workflow.notify import dispatch
    from kttt_workflow.service import Tracker

    settings = OutboxSettings(connect_timeout=1.0, read_timeout=1.0, maildir=None)
    if mode == "before-send":

        def deliver(*args: object, **kwargs: object) -> None:
            print("crashing before any send", flush=True)
            die()

        Tracker._deliver = deliver  # type: ignore[assignment,method-assign]
    elif mode == "after-send":
        real_send = dispatch.send

        def send(message, targets, **kwargs):  # type: ignore[no-untyped-def]
            results = real_send(message, targets, **kwargs)
            if any(r.status.value == "sent" for r in results):
                print(f"crashing after sending {message.delivery_id}", flush=True)
                die()
            return results

        dispatch.send = send
    else:
        raise SystemExit(f"unknown mode {mode!r}")

    tracker = Tracker.open(url, migrate=False)
    tracker.sweep(as_of=as_of, settings=settings)
    print("not crashed", flush=True)
    raise SystemExit(3)


if __name__ == "__main__":
    main()
