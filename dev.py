#!/usr/bin/env python3
"""Quick start with nothing but Python 3.11+: creates .venv, installs the package, runs a command.

    python3 dev.py serve --demo     # the API on the embedded SQLite default, with demo data
    python3 dev.py test             # the whole test suite (TEST_DATABASE_URL=postgresql://… for PostgreSQL)
    python3 dev.py shop-privacy …   # any other command of the package
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed"


def _requirements_fingerprint() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_environment() -> None:
    if sys.version_info < (3, 11):
        sys.exit("shop_privacy needs Python 3.11 or newer")
    if not PYTHON.exists():
        print("Creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if not STAMP.exists() or STAMP.read_text() != _requirements_fingerprint():
        print("Installing shop_privacy and its test tools into .venv …", flush=True)
        subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[test]"], check=True)
        STAMP.write_text(_requirements_fingerprint())


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0
    ensure_environment()
    command, rest = argv[0], argv[1:]
    if command == "test":
        args = [str(PYTHON), "-m", "pytest", *rest]
    elif command == "shop-privacy":
        args = [str(PYTHON), "-m", "shop_privacy.cli", *rest]
    else:
        args = [str(PYTHON), "-m", "shop_privacy.cli", command, *rest]
    return subprocess.call(args, cwd=ROOT if command == "test" else None)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
