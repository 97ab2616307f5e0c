"""etcd v3 wire layer: generated protobuf / gRPC modules plus conversions and error codes.

The *_pb2*.py modules are generated from the .proto files here (scripts/gen_protos.py, run by
`make build`). When they are missing or older than their .proto — a checkout that only ran
setup.py — they are generated on first import, if grpcio-tools is installed.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_GENERATOR = _HERE.parents[2] / "scripts" / "gen_protos.py"


def _ensure_generated() -> None:
    spec = importlib.util.spec_from_file_location("_gen_protos", _GENERATOR)
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    if gen.stale(_HERE):
        try:
            gen.generate(_HERE.parents[2])
        except ImportError as exc:
            raise ImportError("etcd protobuf modules are not generated: run `make build` "
                              "(needs grpcio-tools)") from exc


if _GENERATOR.exists():  # a source tree; an installed wheel carries the generated modules
    _ensure_generated()

from . import auth_pb2, kv_pb2, rpc_pb2, rpc_pb2_grpc  # noqa: E402

__all__ = ["auth_pb2", "kv_pb2", "rpc_pb2", "rpc_pb2_grpc"]
