"""A bucket as read from or written to a bbolt file: sorted keys, each holding a value or a
nested bucket."""
from __future__ import annotations

from typing import Iterator


class Bucket:
    """Values (bytes) and nested buckets by key; `sequence` is the bucket's NextSequence counter."""

    __slots__ = ("entries", "sequence")

    def __init__(self, entries: dict[bytes, "bytes | Bucket"] | None = None,
                 sequence: int = 0) -> None:
        self.entries: dict[bytes, bytes | Bucket] = dict(entries or {})
        self.sequence = sequence

    def bucket(self, name: bytes) -> "Bucket":
        """The nested bucket `name`, created when missing (bbolt's CreateBucketIfNotExists)."""
        found = self.entries.get(name)
        if found is None:
            found = self.entries[name] = Bucket()
        elif not isinstance(found, Bucket):
            raise KeyError(f"{name!r} holds a value, not a bucket")
        return found

    def get_bucket(self, name: bytes) -> "Bucket | None":
        found = self.entries.get(name)
        return found if isinstance(found, Bucket) else None

    def __getitem__(self, key: bytes) -> "bytes | Bucket":
        return self.entries[key]

    def __setitem__(self, key: bytes, value: "bytes | Bucket") -> None:
        if not key:
            raise ValueError("bbolt keys must not be empty")
        self.entries[bytes(key)] = value if isinstance(value, Bucket) else bytes(value)

    def __contains__(self, key: bytes) -> bool:
        return key in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def items(self) -> Iterator[tuple[bytes, "bytes | Bucket"]]:
        """Entries in key order, as a bbolt cursor walks them."""
        for key in sorted(self.entries):
            yield key, self.entries[key]

    def values_only(self) -> list[tuple[bytes, bytes]]:
        return [(k, v) for k, v in self.items() if not isinstance(v, Bucket)]

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Bucket) and self.sequence == other.sequence
                and self.entries == other.entries)

    def __repr__(self) -> str:
        return f"Bucket({len(self.entries)} entries, sequence={self.sequence})"
