#!/usr/bin/env python3
"""Set-up and everyday tasks, needing nothing but Python 3.11+.

    python3 dev.py run      run duly: the server with demo data (creates .venv from the lock first)
    python3 dev.py test     linters, type checks, import contracts and the whole test suite
    python3 dev.py bench    the benchmarks (bench calendar|clocks ARGS for one of them)
    python3 dev.py lock     regenerate the lock files from pyproject.toml (needs uv)

Every command first makes sure `.venv` matches the lock file, so a fresh clone needs one command.
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
DEV_LOCK = ROOT / "requirements" / "dev.lock"
BENCH_LOCK = ROOT / "requirements" / "bench.lock"


def _sh(*args: str | Path) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    result = subprocess.run([str(a) for a in args], cwd=ROOT, check=False)
    if result.returncode:
        sys.exit(result.returncode)


def _ensure_env(lock: Path) -> None:
    """Create or refresh .venv when the lock file or pyproject.toml changed since last time."""
    digest = hashlib.sha256(lock.read_bytes() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = VENV / f".installed-{lock.stem}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    if not (BIN / "python").exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    _sh(BIN / "python", "-m", "pip", "install", "-q", "--require-hashes", "-r", lock)
    _sh(BIN / "python", "-m", "pip", "install", "-q", "--no-deps", "-e", ".")
    stamp.write_text(digest)


def run(args: list[str]) -> None:
    """``duly serve --demo``: the server on a fresh SQLite file with a live simulated help desk.

    Extra arguments go to ``duly serve`` (for example ``--port 8080``).
    """
    _ensure_env(DEV_LOCK)
    _sh(BIN / "duly", "serve", "--demo", *args)


def test(args: list[str]) -> None:
    _ensure_env(DEV_LOCK)
    _sh(BIN / "ruff", "check", ".")
    _sh(BIN / "ruff", "format", "--check", ".")
    _sh(BIN / "mypy")
    _sh(BIN / "lint-imports")
    _sh(BIN / "python", "-m", "pytest", "--cov", "--cov-report=term", *args)


def bench(args: list[str]) -> None:
    """``bench`` runs every benchmark; ``bench NAME ARGS`` one of them.

    NAME is calendar, clocks, api, derive or dashboard; api and dashboard start servers of
    their own.
    """
    _ensure_env(DEV_LOCK)
    _ensure_env(BENCH_LOCK)
    scripts = {
        "calendar": "benchmarks/calendar_bench.py",
        "clocks": "benchmarks/clocks_bench.py",
        "api": "benchmarks/api_bench.py",
        "derive": "benchmarks/derive_bench.py",
        "dashboard": "benchmarks/dashboard_bench.py",
    }
    if args and args[0] in scripts:
        _sh(BIN / "python", scripts[args[0]], *args[1:])
        return
    for script in scripts.values():
        _sh(BIN / "python", script, *args)


def lock(args: list[str]) -> None:
    common = ["--python-version", "3.11", "--generate-hashes", "-q"]
    dev_lock, bench_lock = (str(p.relative_to(ROOT)) for p in (DEV_LOCK, BENCH_LOCK))
    _sh("uv", "pip", "compile", "pyproject.toml", "--extra", "dev", *common, "-o", dev_lock)
    _sh(
        "uv",
        "pip",
        "compile",
        "pyproject.toml",
        "--extra",
        "dev",
        "--extra",
        "bench",
        *common,
        "-o",
        bench_lock,
    )
    for path in (DEV_LOCK, BENCH_LOCK):
        _pin_with_extras(path)


#: Requirements that other packages ask for with an extra. uv writes them bare, and pip 23 (what
#: Python 3.11's venv brings) then refuses the lock in --require-hashes mode as "not pinned".
_WITH_EXTRAS = {"coverage": "toml"}


def _pin_with_extras(path: Path) -> None:
    lines = path.read_text().splitlines(keepends=True)
    for i, line in enumerate(lines):
        name, sep, rest = line.partition("==")
        if sep and name in _WITH_EXTRAS:
            lines[i] = f"{name}[{_WITH_EXTRAS[name]}]=={rest}"
    path.write_text("".join(lines))


COMMANDS = {"run": run, "test": test, "bench": bench, "lock": lock}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__)
        sys.exit(2)
    COMMANDS[sys.argv[1]](sys.argv[2:])
