"""A leader-election contender process for tests: elects on a Lease, and while leading "acts"
(appends a line to its log) only when `is_leader()` says it may.

    python -m tests.client.contender --kubeconfig K --identity a --log a.jsonl [--lease 4 ...]

Log lines (JSON): {"event": "leading", "id", "t", "attempts_after_expiry"}, {"event": "act", "id",
"start", "end", "until"} per act, {"event": "stopped", "id", "t"}. Times are CLOCK_MONOTONIC, which
all processes of the machine share, so logs of several contenders can be merged. SIGTERM stops
the contender (releasing the Lease).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import time

from pykube_plane.client import Client, LeaderElector


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--identity", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--namespace", default="default")
    parser.add_argument("--name", default="contended")
    parser.add_argument("--lease", type=float, default=4.0)
    parser.add_argument("--renew", type=float, default=3.0)
    parser.add_argument("--retry", type=float, default=0.3)
    parser.add_argument("--act-every", type=float, default=0.02)
    args = parser.parse_args()
    asyncio.run(run(args))


async def run(args: argparse.Namespace) -> None:
    fd = os.open(args.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def log(**record) -> None:
        os.write(fd, (json.dumps({"id": args.identity, **record}) + "\n").encode())

    client = Client.from_kubeconfig(args.kubeconfig)
    elector: LeaderElector

    async def lead() -> None:
        log(event="leading", t=time.monotonic(), attempts_after_expiry=elector.attempts_after_expiry)
        while True:
            start = time.monotonic()
            if elector.is_leader():
                until = elector.leading_until
                log(event="act", start=start, end=time.monotonic(), until=until)
            await asyncio.sleep(args.act_every)

    def stopped() -> None:
        log(event="stopped", t=time.monotonic())

    elector = LeaderElector(client, args.namespace, args.name, identity=args.identity,
                            lease_duration=args.lease, renew_deadline=args.renew, retry_period=args.retry,
                            on_started_leading=lead, on_stopped_leading=stopped)
    task = asyncio.ensure_future(elector.run())
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        pass
    finally:
        await client.close()
        os.close(fd)


if __name__ == "__main__":
    main()
