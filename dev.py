#!/usr/bin/env python3
"""One-step set-up and run for kttt-workflow, needing only Python 3.11 and git.

    python3 dev.py demo      # install (first time), then run the demo on embedded defaults
    python3 dev.py test      # install (first time), then run the whole test suite
    python3 dev.py kttt ...  # any kttt command inside the project's environment

It installs a pinned ``uv`` into ``.venv-uv/`` with pip, then ``uv sync --frozen`` builds ``.venv/``
exactly from ``uv.lock``. Nothing is installed outside the project directory.
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
VENV = ROOT / ".venv"
BIN = "Scripts" if os.name == "nt" else "bin"


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


def sync() -> None:
    uv = ensure_uv()
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
    if sys.version_info[:2] != (3, 11):
        say(f"needs Python 3.11 (this is {sys.version.split()[0]}); run it as: python3.11 dev.py …")
        return 2
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    sync()
    cmd, rest = argv[0], argv[1:]
    if cmd == "demo":
        return run(["kttt", "demo", *rest])
    if cmd == "test":
        return run(["pytest", *rest])
    if cmd == "kttt":
        return run(["kttt", *rest])
    say(f"unknown command {cmd!r}; use demo, test or kttt")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
