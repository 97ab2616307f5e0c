"""Runs every scenario in transcripts/*.txt: a new case is a new file, not new code.

To (re)generate the expected outputs after a deliberate change, run with
RAFT_TRANSCRIPT_REWRITE=1 and review the diff like code.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from .transcript import render, run_file

TRANSCRIPTS = sorted((Path(__file__).parent / "transcripts").glob("*.txt"))


def test_transcripts_exist() -> None:
    assert len(TRANSCRIPTS) >= 9


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_transcript(path: Path) -> None:
    blocks, outputs = run_file(path)
    if os.environ.get("RAFT_TRANSCRIPT_REWRITE") == "1":
        path.write_text(render(blocks, outputs, path.read_text()))
        return
    failures = []
    for block, actual in zip(blocks, outputs):
        if actual != block.expected:
            failures.append(f"{path.name}:{block.line_no}: {block.command}\n"
                            "--- expected\n" + "\n".join(block.expected) +
                            "\n--- actual\n" + "\n".join(actual))
    assert not failures, "\n\n".join(failures)
