#!/usr/bin/env python3
"""Generate the etcd v3 protobuf / gRPC modules from pykube_plane/store/etcdpb/*.proto.

The generated *_pb2*.py files are git-ignored: `make build` runs this script, and
`pykube_plane.store.etcdpb` runs it on first import when they are missing or older than the
.proto files. Protos import each other by repository-relative path, so the generated modules
import each other as `pykube_plane.store.etcdpb.<name>_pb2`.

Output is written to a temporary directory and moved into place file by file, so two processes
generating at once never leave a half-written module behind.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "pykube_plane" / "store" / "etcdpb"
GRPC_PROTOS = {"rpc.proto"}  # the only file that declares services


def outputs(proto: Path) -> list[Path]:
    names = [f"{proto.stem}_pb2.py"]
    if proto.name in GRPC_PROTOS:
        names.append(f"{proto.stem}_pb2_grpc.py")
    return [proto.parent / n for n in names]


def stale(proto_dir: Path = PROTO_DIR) -> bool:
    """True when any generated module is missing or older than its .proto."""
    for proto in proto_dir.glob("*.proto"):
        for out in outputs(proto):
            if not out.exists() or out.stat().st_mtime < proto.stat().st_mtime:
                return True
    return False


def generate(root: Path = ROOT) -> None:
    from grpc_tools import protoc  # build-time dependency (grpcio-tools)

    proto_dir = root / "pykube_plane" / "store" / "etcdpb"
    protos = sorted(proto_dir.glob("*.proto"))
    rel = [str(p.relative_to(root)) for p in protos]
    include = str(Path(protoc.__file__).parent / "_proto")
    with tempfile.TemporaryDirectory(prefix="gen_protos_") as tmp:
        for proto, relpath in zip(protos, rel):
            args = ["grpc_tools.protoc", f"-I{root}", f"-I{include}", f"--python_out={tmp}"]
            if proto.name in GRPC_PROTOS:
                args.append(f"--grpc_python_out={tmp}")
            if protoc.main(args + [relpath]) != 0:
                raise SystemExit(f"gen_protos: protoc failed on {relpath}")
        generated = Path(tmp) / proto_dir.relative_to(root)
        for out in sorted(generated.glob("*_pb2*.py")):
            os.replace(out, proto_dir / out.name)


def main() -> int:
    generate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
