"""The write-ahead log against a plain reference model, on real files.

The record layout is re-parsed here independently (`read_records`) so the tests can cut and flip
bytes at exact record boundaries without trusting the code under test to find them.
"""
from __future__ import annotations

import asyncio
import logging
import os
import random
import shutil
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pykube_plane.store.wal import (
    ENTRY_CONF_CHANGE, ENTRY_NORMAL, WAL, Entry, HardState, SnapshotMark, WALCorruptError, WALError, segment_name,
)

LOGGER = "pykube_plane.store.wal"


# ---------------------------------------------------------------------------------------------
# Reference model and an independent reader of the on-disk format


class LogModel:
    """What read_all must return, computed the obvious way."""

    def __init__(self) -> None:
        self.entries: dict[int, Entry] = {}
        self.hard_state = HardState()
        self.mark: SnapshotMark | None = None

    def append(self, entries: list[Entry]) -> None:
        if entries:
            for index in [i for i in self.entries if i >= entries[0].index]:
                del self.entries[index]
            for entry in entries:
                self.entries[entry.index] = entry

    def apply(self, record: object) -> None:
        if isinstance(record, Entry):
            self.append([record])
        elif isinstance(record, HardState):
            self.hard_state = record
        else:
            self.mark = record

    def last_index(self) -> int:
        return max(self.entries, default=0)

    def expected(self) -> tuple[HardState, list[Entry], SnapshotMark | None]:
        after = self.mark.index if self.mark else 0
        return self.hard_state, [self.entries[i] for i in sorted(self.entries) if i > after], self.mark


def segments(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.wal"))


def read_records(path: Path) -> list[tuple[int, int, object]]:
    """(start, end, decoded record) for every record of an undamaged segment file."""
    buf = path.read_bytes()
    out = []
    pos = 0
    while pos < len(buf):
        length, _crc, rtype = struct.unpack_from("<IIB", buf, pos)
        start, end = pos + 9, pos + 9 + length
        if rtype == 4:  # typed entry: term, index, entry type, data
            term, index, etype = struct.unpack_from("<QQB", buf, start)
            record: object = Entry(term, index, buf[start + 17:end], etype)
        elif rtype == 1:  # format 1 entry, no type
            term, index = struct.unpack_from("<QQ", buf, start)
            record = Entry(term, index, buf[start + 16:end])
        elif rtype == 2:
            record = HardState(*struct.unpack_from("<QQQ", buf, start))
        else:
            record = SnapshotMark(*struct.unpack_from("<QQ", buf, start))
        out.append((pos, end, record))
        pos = end
    return out


def payload(index: int, term: int = 1) -> bytes:
    return b"entry %d term %d " % (index, term) * (1 + index % 5)


async def reopen_and_read(directory: Path, **kwargs) -> tuple[HardState, list[Entry], SnapshotMark | None]:
    wal = await WAL.open(directory, **kwargs)
    try:
        return wal.read_all()
    finally:
        await wal.close()


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno >= logging.WARNING]


# ---------------------------------------------------------------------------------------------
# Round trips


async def test_empty_log_reads_back_empty(tmp_path):
    wal = await WAL.open(tmp_path / "wal")
    assert wal.read_all() == (HardState(), [], None)
    await wal.close()
    assert [p.name for p in segments(tmp_path / "wal")] == [segment_name(0, 0)]
    assert await reopen_and_read(tmp_path / "wal") == (HardState(), [], None)


async def test_round_trip_across_rotation_and_reopen(tmp_path):
    directory = tmp_path / "wal"
    model = LogModel()
    wal = await WAL.open(directory, segment_bytes=512)
    for index in range(1, 120):
        entry = Entry(1 + index // 40, index, payload(index))
        hard_state = HardState(entry.term, 1, index - 1)
        await wal.save([entry], hard_state)
        model.append([entry])
        model.hard_state = hard_state
        if index % 25 == 0:
            mark = SnapshotMark(index - 10, 1 + (index - 10) // 40)
            await wal.save_snapshot_mark(mark)
            model.mark = mark
    assert wal.stats["segments_cut"] >= 10
    await wal.close()
    assert len(segments(directory)) == wal.stats["segments_cut"] + 1
    assert await reopen_and_read(directory, segment_bytes=512) == model.expected()

    # and the reopened log keeps going where it stopped
    wal = await WAL.open(directory, segment_bytes=512)
    more = [Entry(9, i, payload(i, 9)) for i in range(120, 130)]
    await wal.save(more, HardState(9, 2, 125))
    await wal.close()
    model.append(more)
    model.hard_state = HardState(9, 2, 125)
    assert await reopen_and_read(directory) == model.expected()


async def test_new_segments_are_named_by_sequence_and_next_index(tmp_path):
    wal = await WAL.open(tmp_path, segment_bytes=100)
    for index in range(1, 6):
        await wal.save([Entry(1, index, b"x" * 120)])
    await wal.close()
    # segment 0 holds entry 1; each later one was cut just before entry seq + 1
    assert [p.name for p in segments(tmp_path)] == [segment_name(0, 0)] + [
        segment_name(seq, seq + 1) for seq in range(1, 5)]


async def test_each_segment_opens_with_the_current_hard_state_and_mark(tmp_path):
    wal = await WAL.open(tmp_path, segment_bytes=64)
    await wal.save([Entry(1, 1, b"a" * 10)])  # 36 bytes
    await wal.save_snapshot_mark(SnapshotMark(1, 1))  # 61 bytes: still below segment_bytes
    await wal.save([Entry(1, 2, b"b" * 80)], HardState(1, 7, 2))
    await wal.save([Entry(1, 3, b"c")])  # the tail is past 64 bytes: cut first
    await wal.close()
    first, newest = segments(tmp_path)
    assert [r for _, _, r in read_records(first)] == [
        Entry(1, 1, b"a" * 10), SnapshotMark(1, 1), Entry(1, 2, b"b" * 80), HardState(1, 7, 2)]
    assert [r for _, _, r in read_records(newest)] == [
        HardState(1, 7, 2), SnapshotMark(1, 1), Entry(1, 3, b"c")]


async def test_conflicting_entries_replace_the_suffix_on_replay(tmp_path):
    wal = await WAL.open(tmp_path, segment_bytes=300)
    await wal.save([Entry(1, i, payload(i)) for i in range(1, 11)])
    # a new leader overwrites from index 6: 6..10 of term 1 are gone, 6..8 of term 2 replace them
    await wal.save([Entry(2, i, payload(i, 2)) for i in range(6, 9)])
    # and once more, replacing 8 only, across the segment boundary
    await wal.save([Entry(3, 8, payload(8, 3)), Entry(3, 9, payload(9, 3))])
    await wal.close()
    _, entries, _ = await reopen_and_read(tmp_path)
    assert [(e.index, e.term) for e in entries] == (
        [(i, 1) for i in range(1, 6)] + [(6, 2), (7, 2), (8, 3), (9, 3)])
    assert all(e.data == payload(e.index, e.term) for e in entries)


async def test_conflict_can_replace_the_whole_log_above_the_snapshot(tmp_path):
    wal = await WAL.open(tmp_path)
    await wal.save([Entry(1, i, b"old") for i in range(1, 6)])
    await wal.save_snapshot_mark(SnapshotMark(2, 1))
    await wal.save([Entry(2, 3, b"new")])
    await wal.close()
    assert await reopen_and_read(tmp_path) == (HardState(), [Entry(2, 3, b"new")], SnapshotMark(2, 1))


async def test_entries_at_or_below_the_latest_mark_are_not_returned(tmp_path):
    wal = await WAL.open(tmp_path)
    await wal.save([Entry(1, i, b"e") for i in range(1, 11)], HardState(1, 1, 10))
    await wal.save_snapshot_mark(SnapshotMark(7, 1))
    await wal.close()
    hard_state, entries, mark = await reopen_and_read(tmp_path)
    assert (hard_state, mark) == (HardState(1, 1, 10), SnapshotMark(7, 1))
    assert [e.index for e in entries] == [8, 9, 10]


async def test_entries_after_an_older_snapshot_on_request(tmp_path):
    # the store's pattern: release only up to the previous snapshot, so if the newest snapshot
    # file is unreadable the older one plus the WAL still rebuild the state
    wal = await WAL.open(tmp_path, segment_bytes=200)
    for i in range(1, 41):
        await wal.save([Entry(1, i, payload(i))])
        if i in (10, 30):
            await wal.save_snapshot_mark(SnapshotMark(i, 1))
    await wal.release_before(10)
    await wal.close()
    assert segments(tmp_path)[0].name != segment_name(0, 0)
    wal = await WAL.open(tmp_path)
    assert [e.index for e in wal.read_all()[1]] == list(range(31, 41))
    assert [e.index for e in wal.read_all(after_index=10)[1]] == list(range(11, 41))
    assert [e.index for e in wal.read_all(after_index=35)[1]] == list(range(36, 41))
    assert wal.read_all(after_index=40)[1] == []
    with pytest.raises(WALError, match="entries after index 2 are no longer in the log"):
        wal.read_all(after_index=2)
    await wal.close()


async def test_a_mark_beyond_the_log_then_entries_after_it(tmp_path):
    # a follower receiving a snapshot: mark first, then entries that continue from it
    wal = await WAL.open(tmp_path)
    await wal.save([Entry(1, 1, b"a"), Entry(1, 2, b"b")])
    await wal.save_snapshot_mark(SnapshotMark(50, 3))
    await wal.save([Entry(3, 51, b"c")], HardState(3, 0, 51))
    await wal.close()
    assert await reopen_and_read(tmp_path) == (HardState(3, 0, 51), [Entry(3, 51, b"c")],
                                               SnapshotMark(50, 3))


async def test_large_and_empty_payloads(tmp_path):
    big = os.urandom(3 << 20)
    wal = await WAL.open(tmp_path, segment_bytes=1 << 20)
    await wal.save([Entry(1, 1, b""), Entry(1, 2, big), Entry(1, 3, b"")])
    await wal.save([Entry(1, 4, big[:1000])])
    await wal.close()
    _, entries, _ = await reopen_and_read(tmp_path)
    assert [e.data for e in entries] == [b"", big, b"", big[:1000]]
    assert len(segments(tmp_path)) == 2


# ---------------------------------------------------------------------------------------------
# Model-based property: any sequence of Raft-shaped operations, with reopens, reads back as the model


@st.composite
def operations(draw):
    ops = []
    last = mark = 0
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(["append", "append", "append", "hard_state", "mark", "release",
                                     "reopen"]))
        if kind == "append":
            top = max(last, mark) + 1
            first = draw(st.integers(max(mark + 1, top - 4), top))
            count = draw(st.integers(1, 4))
            term = draw(st.integers(1, 5))
            size = draw(st.integers(0, 90))
            ops.append(("append", first, count, term, size))
            last = first + count - 1
        elif kind == "hard_state":
            ops.append(("hard_state", HardState(draw(st.integers(0, 9)), draw(st.integers(0, 3)),
                                                draw(st.integers(0, 50)))))
        elif kind == "mark" and last > mark:
            mark = draw(st.integers(mark, last))
            ops.append(("mark", SnapshotMark(mark, draw(st.integers(1, 5)))))
        elif kind == "release":
            ops.append(("release", draw(st.integers(0, mark + 1))))
        elif kind == "reopen":
            ops.append(("reopen",))
    return ops


@settings(max_examples=60, deadline=None)
@given(ops=operations(), segment_bytes=st.sampled_from([64, 200, 1 << 20]))
def test_any_operation_sequence_reads_back_as_the_model(tmp_path_factory, ops, segment_bytes):
    directory = tmp_path_factory.mktemp("wal")

    async def scenario():
        model = LogModel()
        wal = await WAL.open(directory, segment_bytes=segment_bytes, fsync=False)
        for op in ops:
            if op[0] == "append":
                _, first, count, term, size = op
                entries = [Entry(term, i, bytes([i % 251]) * size) for i in range(first, first + count)]
                await wal.save(entries)
                model.append(entries)
            elif op[0] == "hard_state":
                await wal.save([], op[1])
                model.hard_state = op[1]
            elif op[0] == "mark":
                await wal.save_snapshot_mark(op[1])
                model.mark = op[1]
            elif op[0] == "release":
                await wal.release_before(op[1])
            else:
                await wal.close()
                wal = await WAL.open(directory, segment_bytes=segment_bytes, fsync=False)
                assert wal.read_all() == model.expected()
        await wal.close()
        assert await reopen_and_read(directory, fsync=False) == model.expected()

    asyncio.run(scenario())


# ---------------------------------------------------------------------------------------------
# Torn tails: cut or damaged last records are dropped, with one warning, and the log goes on


async def build_log(directory: Path) -> list[tuple[Path, int, int, object]]:
    """A log over three segments; returns every record as (segment, start, end, record)."""
    wal = await WAL.open(directory, segment_bytes=700)
    for index in range(1, 31):
        await wal.save([Entry(1 + index // 10, index, payload(index))],
                       HardState(1 + index // 10, 1, index - 1) if index % 3 == 1 else None)
        if index == 12:
            await wal.save_snapshot_mark(SnapshotMark(5, 1))
    await wal.close()
    assert len(segments(directory)) >= 3
    return [(path, start, end, record) for path in segments(directory)
            for start, end, record in read_records(path)]


def expected_before(records: list[tuple[Path, int, int, object]], position: int):
    model = LogModel()
    for _, _, _, record in records[:position]:
        model.apply(record)
    return model


async def check_recovers(directory: Path, records, position: int, damaged_bytes: int, caplog):
    """Reopen after damage to records[position]: the records before it survive, it and after do not."""
    path, start, _, _ = records[position]
    model = expected_before(records, position)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        wal = await WAL.open(directory, segment_bytes=700)
    assert wal.read_all() == model.expected()
    [warning] = warnings_of(caplog)
    assert str(path) in warning and f"offset {start}" in warning
    assert f"{damaged_bytes} bytes dropped" in warning
    assert path.stat().st_size == start

    # appending after recovery is readable on the next open, with no further warning
    next_entry = Entry(7, max(model.last_index(), model.mark.index if model.mark else 0) + 1, b"after")
    await wal.save([next_entry], HardState(7, 2, 1))
    await wal.close()
    model.append([next_entry])
    model.hard_state = HardState(7, 2, 1)
    caplog.clear()
    assert await reopen_and_read(directory) == model.expected()
    assert warnings_of(caplog) == []


async def test_random_cuts_inside_the_last_records_are_recovered(tmp_path, caplog):
    pristine = tmp_path / "pristine"
    records = await build_log(pristine)
    last_segment = records[-1][0]
    in_last = [i for i, r in enumerate(records) if r[0] == last_segment]
    rng = random.Random(2)
    for trial in range(60):
        position = rng.choice(in_last[-6:])
        _, start, end, _ = records[position]
        cut = rng.randrange(start + 1, end)  # strictly inside the record
        directory = tmp_path / f"cut{trial}"
        shutil.copytree(pristine, directory)
        os.truncate(directory / last_segment.name, cut)
        here = [(directory / p.name, s, e, r) for p, s, e, r in records]
        await check_recovers(directory, here, position, cut - start, caplog)


async def test_random_byte_flips_in_the_last_record_are_recovered(tmp_path, caplog):
    pristine = tmp_path / "pristine"
    records = await build_log(pristine)
    last_segment, start, end, _ = records[-1]
    rng = random.Random(3)
    assert isinstance(records[-1][3], Entry)
    offsets = list(range(start, start + 9)) + rng.sample(range(start + 9, end), 30)
    for trial, offset in enumerate(offsets):  # every header byte, and payload bytes
        directory = tmp_path / f"flip{trial}"
        shutil.copytree(pristine, directory)
        target = directory / last_segment.name
        data = bytearray(target.read_bytes())
        data[offset] ^= rng.randrange(1, 256)
        target.write_bytes(data)
        here = [(directory / p.name, s, e, r) for p, s, e, r in records]
        await check_recovers(directory, here, len(records) - 1, end - start, caplog)


async def test_zeroed_tail_is_a_torn_write(tmp_path, caplog):
    # what a crash before the data pages reached the disk can leave: the size grew, the bytes are 0
    pristine = tmp_path / "pristine"
    records = await build_log(pristine)
    last_segment, start, end, _ = records[-1]
    data = bytearray(last_segment.read_bytes())
    data[start:end] = bytes(end - start)
    last_segment.write_bytes(data)
    await check_recovers(pristine, records, len(records) - 1, end - start, caplog)


async def test_torn_header_of_a_fresh_segment(tmp_path, caplog):
    wal = await WAL.open(tmp_path, segment_bytes=50)
    await wal.save([Entry(1, 1, b"x" * 60)], HardState(1, 1, 0))
    await wal.save([Entry(1, 2, b"y")])
    await wal.close()
    newest = segments(tmp_path)[-1]
    os.truncate(newest, 5)  # inside the repeated hard state
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert await reopen_and_read(tmp_path) == (HardState(1, 1, 0), [Entry(1, 1, b"x" * 60)], None)
    assert len(warnings_of(caplog)) == 1


# ---------------------------------------------------------------------------------------------
# Corruption before the tail is an error, and the files are left as they were


async def assert_corrupt(directory: Path, match: str) -> None:
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    with pytest.raises(WALCorruptError, match=match):
        await WAL.open(directory, segment_bytes=700)
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before
    # the failed open released the directory lock: trying again meets the damage, not the lock
    with pytest.raises(WALCorruptError, match=match):
        await WAL.open(directory)


@pytest.mark.parametrize("field_offset", [0, 2, 4, 8, 9, 20, -1], ids=[
    "length-low", "length-high", "crc", "type", "payload-term", "payload-data", "payload-last"])
async def test_damage_in_the_middle_of_the_last_segment(tmp_path, field_offset):
    records = await build_log(tmp_path)
    last_segment = records[-1][0]
    in_last = [r for r in records if r[0] == last_segment]
    _, start, end, _ = in_last[len(in_last) // 2]
    offset = start + field_offset if field_offset >= 0 else end - 1
    data = bytearray(last_segment.read_bytes())
    data[offset] ^= 0x40
    last_segment.write_bytes(data)
    await assert_corrupt(tmp_path, "followed by a valid record")


async def test_damage_to_the_last_record_of_a_sealed_segment(tmp_path):
    records = await build_log(tmp_path)
    first_segment = records[0][0]
    _, start, end, _ = [r for r in records if r[0] == first_segment][-1]
    data = bytearray(first_segment.read_bytes())
    data[end - 1] ^= 1
    first_segment.write_bytes(data)
    await assert_corrupt(tmp_path, "sealed")


async def test_cut_sealed_segment(tmp_path):
    await build_log(tmp_path)
    first_segment = segments(tmp_path)[0]
    os.truncate(first_segment, first_segment.stat().st_size - 3)
    await assert_corrupt(tmp_path, "sealed")


async def test_missing_middle_segment(tmp_path):
    await build_log(tmp_path)
    segments(tmp_path)[1].unlink()
    await assert_corrupt(tmp_path, "segments are missing")


async def test_failed_open_leaves_the_directory_usable_after_repair(tmp_path):
    records = await build_log(tmp_path)
    middle_path, start, _, _ = records[len(records) // 2]
    pristine = middle_path.read_bytes()
    data = bytearray(pristine)
    data[start + 10] ^= 0xFF
    middle_path.write_bytes(data)
    with pytest.raises(WALCorruptError):
        await WAL.open(tmp_path)
    middle_path.write_bytes(pristine)  # an operator restores the file
    assert await reopen_and_read(tmp_path) == expected_before(records, len(records)).expected()


# ---------------------------------------------------------------------------------------------
# Group commit


async def test_concurrent_saves_share_fsyncs(tmp_path):
    wal = await WAL.open(tmp_path)
    fsyncs_before = wal.stats["fsyncs"]
    await asyncio.gather(*(wal.save([Entry(1, i, payload(i))], HardState(1, 1, i))
                           for i in range(1, 201)))
    fsyncs = wal.stats["fsyncs"] - fsyncs_before
    assert 1 <= fsyncs <= 10, fsyncs
    assert wal.stats["records_written"] == 400
    await wal.close()
    hard_state, entries, _ = await reopen_and_read(tmp_path)
    assert hard_state == HardState(1, 1, 200)
    assert entries == [Entry(1, i, payload(i)) for i in range(1, 201)]


async def test_saves_arriving_during_a_flush_ride_the_next_one(tmp_path):
    wal = await WAL.open(tmp_path)
    fsyncs_before = wal.stats["fsyncs"]
    first = asyncio.ensure_future(wal.save([Entry(1, 1, b"first")]))
    await asyncio.sleep(0)  # the first flush has been handed to the worker thread
    later = [asyncio.ensure_future(wal.save([Entry(1, i, b"later")])) for i in range(2, 102)]
    await asyncio.gather(first, *later)
    assert wal.stats["fsyncs"] - fsyncs_before <= 3
    await wal.close()
    assert len((await reopen_and_read(tmp_path))[1]) == 101


async def test_unsynced_saves_are_written_by_the_next_flush(tmp_path):
    wal = await WAL.open(tmp_path)
    fsyncs_before = wal.stats["fsyncs"]
    for i in range(1, 51):
        await wal.save([Entry(1, i, b"lazy")], must_sync=False)
    await wal.save([], HardState(1, 1, 50))  # a synced save covers everything before it
    assert wal.stats["fsyncs"] - fsyncs_before <= 2
    _, entries, _ = await reopen_and_read_while_open(tmp_path, wal)
    assert [e.index for e in entries] == list(range(1, 51))
    await wal.close()


async def reopen_and_read_while_open(directory: Path, wal: WAL):
    # a second WAL may not open the directory; read a copy of the files instead
    copy = directory.parent / (directory.name + "-copy")
    shutil.copytree(directory, copy)
    return await reopen_and_read(copy)


async def test_fsync_off_still_writes(tmp_path):
    wal = await WAL.open(tmp_path, fsync=False)
    await asyncio.gather(*(wal.save([Entry(1, i, b"x")]) for i in range(1, 21)))
    assert wal.stats["fsyncs"] == 0
    await wal.close()
    assert len((await reopen_and_read(tmp_path))[1]) == 20


# ---------------------------------------------------------------------------------------------
# Releasing old segments


async def test_release_deletes_only_segments_below_the_index(tmp_path):
    wal = await WAL.open(tmp_path, segment_bytes=300)
    for i in range(1, 41):
        await wal.save([Entry(1, i, payload(i))], HardState(1, 1, i))
    await wal.save_snapshot_mark(SnapshotMark(30, 1))
    spans = {p.name: [r.index for _, _, r in read_records(p) if isinstance(r, Entry)]
             for p in segments(tmp_path)}
    await wal.release_before(31)
    await wal.close()
    kept = {p.name for p in segments(tmp_path)}
    for name, indexes in spans.items():
        assert (name in kept) == (name == max(spans) or any(i >= 31 for i in indexes)), name
    assert wal.stats["segments_released"] == len(spans) - len(kept) > 0
    # hard state and mark survive although the segments that first recorded them are gone
    assert await reopen_and_read(tmp_path) == (
        HardState(1, 1, 40), [Entry(1, i, payload(i)) for i in range(31, 41)], SnapshotMark(30, 1))


async def test_release_boundary_is_exact(tmp_path):
    wal = await WAL.open(tmp_path, segment_bytes=10)  # one entry per segment
    await wal.save([Entry(1, 1, b"first")])
    for i in range(2, 11):
        await wal.save([Entry(1, i, b"e%d" % i)])
    assert len(segments(tmp_path)) == 10
    await wal.save_snapshot_mark(SnapshotMark(6, 1))
    await wal.release_before(5)  # entries 1..4 may go; the segment holding 5 stays
    assert [[r.index for _, _, r in read_records(p) if isinstance(r, Entry)]
            for p in segments(tmp_path)][0] == [5]
    await wal.release_before(7)
    await wal.close()
    assert [[r.index for _, _, r in read_records(p) if isinstance(r, Entry)]
            for p in segments(tmp_path)] == [[7], [8], [9], [10], []]  # the mark went to a new tail
    assert await reopen_and_read(tmp_path) == (
        HardState(), [Entry(1, i, b"e%d" % i) for i in range(7, 11)], SnapshotMark(6, 1))


async def test_release_never_deletes_the_tail(tmp_path):
    wal = await WAL.open(tmp_path, segment_bytes=100)
    await wal.save([Entry(1, i, b"z" * 50) for i in range(1, 5)])
    await wal.save_snapshot_mark(SnapshotMark(4, 1))
    await wal.release_before(5)
    await wal.close()
    assert len(segments(tmp_path)) == 1
    assert await reopen_and_read(tmp_path) == (HardState(), [], SnapshotMark(4, 1))


async def test_release_beyond_the_snapshot_is_refused(tmp_path):
    wal = await WAL.open(tmp_path)
    await wal.save([Entry(1, i, b"") for i in range(1, 10)])
    await wal.save_snapshot_mark(SnapshotMark(3, 1))
    with pytest.raises(ValueError, match="snapshot mark only covers up to 3"):
        await wal.release_before(5)
    await wal.close()


# ---------------------------------------------------------------------------------------------
# Misuse and failures reach the caller as errors


async def test_entries_must_follow_raft_order(tmp_path):
    wal = await WAL.open(tmp_path)
    with pytest.raises(ValueError, match="gap"):
        await wal.save([Entry(1, 2, b"")])
    await wal.save([Entry(1, 1, b""), Entry(1, 2, b"")])
    with pytest.raises(ValueError, match="consecutive"):
        await wal.save([Entry(1, 3, b""), Entry(1, 5, b"")])
    with pytest.raises(ValueError, match="unsigned 64-bit"):
        await wal.save([Entry(-1, 3, b"")])
    with pytest.raises(TypeError, match="must be bytes"):
        await wal.save([Entry(1, 3, "text")])  # type: ignore[arg-type]
    await wal.save_snapshot_mark(SnapshotMark(2, 1))
    with pytest.raises(ValueError, match="covered by snapshot mark"):
        await wal.save([Entry(1, 2, b"")])
    with pytest.raises(ValueError, match="older than the saved mark"):
        await wal.save_snapshot_mark(SnapshotMark(1, 1))
    await wal.save([Entry(1, 3, b"ok")])
    await wal.close()
    # nothing from the refused calls reached the file
    assert await reopen_and_read(tmp_path) == (HardState(), [Entry(1, 3, b"ok")], SnapshotMark(2, 1))


async def test_one_wal_per_directory(tmp_path):
    wal = await WAL.open(tmp_path)
    with pytest.raises(WALError, match="in use by another WAL"):
        await WAL.open(tmp_path)
    await wal.close()
    await (await WAL.open(tmp_path)).close()  # the lock went with the close


async def test_closed_wal_refuses_saves(tmp_path):
    wal = await WAL.open(tmp_path)
    await wal.close()
    await wal.close()  # idempotent
    with pytest.raises(WALError, match="wal: closed"):
        await wal.save([Entry(1, 1, b"")])


async def test_a_failed_write_fails_every_waiter_and_stops_the_log(tmp_path):
    wal = await WAL.open(tmp_path)
    await wal.save([Entry(1, 1, b"kept")])
    # the tail descriptor becomes read-only: the next write gets a real EBADF from the kernel
    read_only = os.open(segments(tmp_path)[-1], os.O_RDONLY)
    os.dup2(read_only, wal._files.tail_fd)
    os.close(read_only)
    results = await asyncio.gather(*(wal.save([Entry(1, i, b"lost")]) for i in range(2, 6)),
                                   return_exceptions=True)
    assert all(isinstance(r, WALError) and "write failed" in str(r) for r in results)
    with pytest.raises(WALError, match="unusable"):
        await wal.save([Entry(1, 6, b"")])
    await wal.close()
    assert (await reopen_and_read(tmp_path))[1] == [Entry(1, 1, b"kept")]


async def test_leftover_segment_being_created_is_discarded(tmp_path):
    wal = await WAL.open(tmp_path)
    await wal.save([Entry(1, 1, b"a")])
    await wal.close()
    (tmp_path / (segment_name(1, 2) + ".tmp")).write_bytes(b"half a header")
    assert (await reopen_and_read(tmp_path))[1] == [Entry(1, 1, b"a")]
    assert not list(tmp_path.glob("*.tmp"))


async def test_unopenable_directory_is_a_wal_error(tmp_path):
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(WALError, match="cannot open"):
        await WAL.open(tmp_path / "file")


# ---------------------------------------------------------------------------------------------
# Entry types


async def test_entry_type_survives_replay(tmp_path):
    """A configuration-change entry must still be one after a restart (Raft re-applies it)."""
    wal = await WAL.open(tmp_path)
    await wal.save([Entry(1, 1, b"add-node", ENTRY_CONF_CHANGE), Entry(1, 2, b"put", ENTRY_NORMAL)],
                   HardState(1, 0, 2))
    await wal.close()
    _, entries, _ = await reopen_and_read(tmp_path)
    assert [(e.index, e.type, e.data) for e in entries] == [
        (1, ENTRY_CONF_CHANGE, b"add-node"), (2, ENTRY_NORMAL, b"put")]
    with pytest.raises(ValueError, match="does not fit in a byte"):
        wal = await WAL.open(tmp_path)
        try:
            await wal.save([Entry(1, 3, b"", 256)])
        finally:
            await wal.close()


async def test_untyped_entries_of_format_1_read_as_normal(tmp_path):
    """A log written before entries had a type (record type 1) stays readable."""
    record = bytearray()
    for index in (1, 2):
        typed = struct.pack("<BQQ", 1, 1, index) + b"old %d" % index
        record += struct.pack("<II", len(typed) - 1, zlib.crc32(typed)) + typed
    (tmp_path / segment_name(0, 0)).write_bytes(bytes(record))
    wal = await WAL.open(tmp_path)
    _, entries, _ = wal.read_all()
    assert entries == [Entry(1, 1, b"old 1"), Entry(1, 2, b"old 2")]
    await wal.save([Entry(2, 3, b"new", ENTRY_CONF_CHANGE)])  # appends in the typed format
    await wal.close()
    _, entries, _ = await reopen_and_read(tmp_path)
    assert [(e.index, e.type) for e in entries] == [(1, 0), (2, 0), (3, ENTRY_CONF_CHANGE)]
