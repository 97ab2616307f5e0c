"""etcdctl 3.5's output formats (simple, json, table), so scripts written for etcdctl carry over.

JSON mirrors what etcdctl prints: Go's encoding/json over etcd's generated structs — proto field
names, zero values omitted, bytes as base64, enums as numbers, uint64 as plain numbers.
"""
from __future__ import annotations

import base64
import sys
from typing import Any, Sequence

import orjson
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from pykube_plane.store.etcdpb import kv_pb2

_BYTES = FieldDescriptor.TYPE_BYTES
_MESSAGE = FieldDescriptor.TYPE_MESSAGE


def pb_to_json_dict(msg: Message) -> dict[str, Any]:
    """A protobuf message as etcdctl's JSON printer renders the Go struct."""
    out: dict[str, Any] = {}
    for fd, value in msg.ListFields():
        if fd.is_repeated:
            if fd.type == _MESSAGE:
                out[fd.name] = [pb_to_json_dict(v) for v in value]
            elif fd.type == _BYTES:
                out[fd.name] = [base64.b64encode(v).decode() for v in value]
            else:
                out[fd.name] = list(value)
        elif fd.type == _MESSAGE:
            out[fd.name] = pb_to_json_dict(value)
        elif fd.type == _BYTES:
            out[fd.name] = base64.b64encode(value).decode()
        else:
            out[fd.name] = value
    return out


def dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def humanize_bytes(n: int) -> str:
    """go-humanize's Bytes(): SI units, as etcdctl prints db sizes ("20 kB", "1.2 MB")."""
    if n < 10:
        return f"{n} B"
    units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
    e = 0
    value = float(n)
    while value >= 1000 and e < len(units) - 1:
        value /= 1000
        e += 1
    fmt = "{:.0f} {}" if value >= 10 else "{:.1f} {}"
    return fmt.format(value, units[e])


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """tablewriter as etcdctl configures it: upper-case centred header, right-aligned cells."""
    header = [h.upper() for h in header]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def centred(text: str, w: int) -> str:
        pad = w - len(text)
        return " " * (pad // 2) + text + " " * (pad - pad // 2)

    out = [line, "| " + " | ".join(centred(h, w) for h, w in zip(header, widths)) + " |", line]
    for r in rows:
        out.append("| " + " | ".join(c.rjust(w) for c, w in zip(r, widths)) + " |")
    out.append(line)
    return "\n".join(out)


def write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def kv_lines(kv: kv_pb2.KeyValue, value_only: bool = False) -> str:
    """etcdctl's printKV: the key line (unless value-only), then the value line."""
    key = kv.key.decode(errors="replace")
    value = kv.value.decode(errors="replace")
    return f"{value}\n" if value_only else f"{key}\n{value}\n"
