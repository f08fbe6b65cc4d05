"""What every ``kttt`` command shares: the app, the consoles, the ``--db`` option, dates, errors,
and :func:`open_tracker`, the one way a command opens the store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from kttt_workflow.errors import InputError
    from kttt_workflow.service import Tracker

app = typer.Typer(
    name="kttt",
    help="Theo dõi thực hiện văn bản chỉ đạo: khai báo YAML, giao nhiệm vụ, thời hạn, hoàn thành.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


# Piped or redirected output (``kttt status | less``, a file, a CI log) has no terminal width:
# rich would assume 80 columns and fold every table cell (task ids cut over lines). Such output
# gets this width instead (or ``COLUMNS`` when set), so a table keeps one row per line, each
# column as wide as its widest cell.
PIPED_WIDTH = 1000


def _width(stderr: bool) -> int | None:
    """The console width: None (rich asks the terminal) on a terminal, else wide."""
    import os
    import sys

    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return None
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else PIPED_WIDTH


class _Console:
    """A rich ``Console`` made on first use: a command that prints plain lines (``kttt
    deadline``) does not pay for importing rich (about 50 ms of its start-up). On a pipe it is
    :data:`PIPED_WIDTH` wide (tables are never cut to 80 columns)."""

    def __init__(self, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr, soft_wrap=True, width=_width(self._stderr))
        return getattr(self._console, name)


out: Any = _Console()
err: Any = _Console(stderr=True)

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="KTTT_DATABASE_URL",
        help="URL cơ sở dữ liệu (mặc định: tệp SQLite trong $KTTT_HOME).",
    ),
]


def parse_date(text: str | None) -> date | None:
    """Accept 2022-12-05 or 05/12/2022."""
    if text is None:
        return None
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise typer.BadParameter(f"ngày '{text}' không hợp lệ; cần dạng YYYY-MM-DD hoặc DD/MM/YYYY")


def fmt_date(d: date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else "—"


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``Lỗi: message`` on stderr; raise the returned exit."""
    from rich.markup import escape

    err.print(f"[red]Lỗi:[/red] {escape(message)}", highlight=False)
    return typer.Exit(code)


def print_issues(e: InputError) -> None:
    for issue in e.issues:
        err.print(str(issue), highlight=False, markup=False)
    err.print(f"Có {len(e.issues)} lỗi; không có gì được ghi vào cơ sở dữ liệu.", highlight=False)


@contextmanager
def open_tracker(db: str | None) -> Iterator[Tracker]:
    """The store at ``db`` for one command; every error of the engine becomes a message and exit 1.

    A wrong URL or an unreachable server is said without the password; invalid input files are
    listed ``file:line:col: message``; any other refusal (unknown task, wrong state…) is printed
    as it is, in Vietnamese.
    """
    from kttt_workflow import config
    from kttt_workflow.errors import InputError, KtttError
    from kttt_workflow.service import Tracker
    from kttt_workflow.store.db import normalise_url, safe_url, said

    try:
        tracker = Tracker.open(db)
    except KtttError as e:  # a setting that cannot be used, a busy store
        raise fail(str(e)) from None
    except Exception as exc:  # a wrong URL, an unreachable server: say so without the password
        where = safe_url(normalise_url(config.database_url(db)))
        raise fail(f"không mở được cơ sở dữ liệu {where}: {type(exc).__name__}") from None
    try:
        yield tracker
    except InputError as e:
        print_issues(e)
        raise typer.Exit(1) from None
    except KtttError as e:
        raise fail(str(e)) from None
    except Exception as exc:  # a database failure the service did not expect: never its SQL
        message = said(exc)
        if message is None:
            raise
        raise fail(message) from None
    finally:
        tracker.close()
