#!/usr/bin/env python3
"""One-step set-up and run for kttt-workflow, needing only Python 3.11, 3.12 or 3.13 and git.

    python3 dev.py demo      # install (first time), then run the demo on embedded defaults
    python3 dev.py test      # install (first time), then run the whole test suite
    python3 dev.py kttt ...  # any kttt command inside the project's environment

It installs a pinned ``uv`` into ``.venv-uv/`` with pip, then ``uv sync --frozen`` builds ``.venv/``
exactly from ``uv.lock``, on the Python that runs this script. Nothing is installed outside the
project directory.

KTTT_VENV selects another environment directory (a name or a path relative to the project root),
so that environments on different Pythons can live side by side, e.g.

    KTTT_VENV=.venv-py3.13 python3.13 dev.py test
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

UV_VERSION = "0.13.9"
ROOT = Path(__file__).resolve().parent
UV_VENV = ROOT / ".venv-uv"
# KTTT_VENV is relative to ROOT; an absolute path is kept as it is.
VENV = ROOT / (os.environ.get("KTTT_VENV") or ".venv")
SUPPORTED = ((3, 11), (3, 12), (3, 13))
BIN = "Scripts" if os.name == "nt" else "bin"


def _workers(args: list[str]) -> list[str]:
    """Run the tests in parallel (pytest-xdist, one worker per CPU, at most 4) unless the
    arguments choose: ``-n N``, ``-n0`` or ``-p no:xdist`` are kept as given."""
    if any(a.startswith(("-n", "--numprocesses", "--dist")) or a == "no:xdist" for a in args):
        return []
    n = min(4, os.cpu_count() or 1)
    return ["-n", str(n)] if n > 1 else []


def say(msg: str) -> None:
    print(f"[dev.py] {msg}", flush=True)


def ensure_uv() -> Path:
    uv = UV_VENV / BIN / ("uv.exe" if os.name == "nt" else "uv")
    if uv.exists():
        return uv
    say(f"installing uv {UV_VERSION} into {UV_VENV.name}/")
    venv.EnvBuilder(with_pip=True, clear=True).create(UV_VENV)
    subprocess.run(
        [
            str(UV_VENV / BIN / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"uv=={UV_VERSION}",
        ],
        check=True,
    )
    return uv


def venv_python_version(env_dir: Path) -> str | None:
    """The ``major.minor`` of the Python an existing environment was built on, if it has one."""
    try:
        cfg = (env_dir / "pyvenv.cfg").read_text(encoding="utf-8")
    except OSError:
        return None
    for line in cfg.splitlines():
        key, _, value = line.partition("=")
        if key.strip() in ("version_info", "version"):
            return ".".join(value.strip().split(".")[:2])
    return None


def sync() -> None:
    uv = ensure_uv()
    this = "{}.{}".format(*sys.version_info[:2])
    old = venv_python_version(VENV)
    if old is not None and old != this:
        say(
            f"{VENV.name}/ was built on Python {old}; rebuilding it on Python {this} "
            "(set KTTT_VENV to keep one environment per Python)"
        )
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(VENV)}
    subprocess.run(
        [str(uv), "sync", "--frozen", "--quiet", "--python", sys.executable],
        check=True,
        cwd=ROOT,
        env=env,
    )


def run(args: list[str]) -> int:
    exe = VENV / BIN / args[0]
    return subprocess.call([str(exe), *args[1:]], cwd=ROOT)


def main(argv: list[str]) -> int:
    if sys.version_info[:2] not in SUPPORTED:
        say(
            f"needs Python 3.11, 3.12 or 3.13 (this is {sys.version.split()[0]}); "
            "run it as: python3.11 dev.py …"
        )
        return 2
    if VENV.resolve() in (ROOT, UV_VENV):
        say(f"KTTT_VENV must name an environment directory of its own, not {VENV}")
        return 2
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    sync()
    cmd, rest = argv[0], argv[1:]
    if cmd == "demo":
        return run(["kttt", "demo", *rest])
    if cmd == "test":
        return run(["pytest", *_workers(rest), *rest])
    if cmd == "kttt":
        return run(["kttt", *rest])
    say(f"unknown command {cmd!r}; use demo, test or kttt")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
