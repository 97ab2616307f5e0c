"""Differential checks: the plain-Python reference (reference_raft.py) and the compiled core
must make identical decisions. Every transcript must read the same on the reference, and a
sample of simulation seeds must produce the same histories, message counts and checks."""
from __future__ import annotations

from pathlib import Path

import pytest

from . import reference_raft
from .sim import run_seed
from .transcript import run_file

TRANSCRIPTS = sorted((Path(__file__).parent / "transcripts").glob("*.txt"))


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_transcript_on_reference(path: Path) -> None:
    blocks, outputs = run_file(path, impl=reference_raft)
    for block, actual in zip(blocks, outputs):
        assert actual == block.expected, f"{path.name}:{block.line_no}: {block.command}"


@pytest.mark.parametrize("seed", range(0, 40, 2))
def test_simulation_matches_reference(seed: int) -> None:
    compiled = run_seed(seed)
    reference = run_seed(seed, impl=reference_raft)
    assert reference.history == compiled.history
    assert (reference.messages, reference.safety_checks, reference.leaders) == (
        compiled.messages, compiled.safety_checks, compiled.leaders)
