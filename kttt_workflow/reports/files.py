"""Writing a report file all or nothing: into a temporary file beside the target, renamed over
it once complete, so a failure (or a full disk) never leaves a partial file behind."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from kttt_workflow.errors import KtttError


def write_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file in ``path``'s folder, then rename it to ``path``.

    A folder that does not exist, or a target that is a folder, is a ``KtttError``; if
    ``write`` raises, the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise KtttError(f"không ghi được tệp {path}: thư mục {folder} không tồn tại")
    if path.is_dir():
        raise KtttError(f"không ghi được tệp {path}: đó là một thư mục")
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise KtttError(f"không ghi được tệp {path}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
