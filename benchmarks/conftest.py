"""Benchmark plumbing: every figure lands in benchmarks/results/<name>.json with its context."""
from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
from pathlib import Path

import pytest

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, cwd=RESULTS.parent).stdout.strip()
    except OSError:
        commit = ""
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "commit": commit,
    }


def write_result(name: str, figures: dict) -> Path:
    """Write (merging with what other benchmarks of the same file wrote in this run)."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {}
    if path.exists():
        try:
            data = json.loads(path.read_text())
        except ValueError:
            data = {}
    data.update(figures)
    data["machine"] = machine()
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path


@pytest.fixture
def result_writer():
    return write_result
