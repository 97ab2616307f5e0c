"""An informer over HTTP while its API server process is restarted on the same data dir, once
gracefully (SIGTERM) and once killed (SIGKILL), in the middle of a storm of writes: the cache
converges to the server's state, and every handler sees each object's changes in order, once."""
from __future__ import annotations

import asyncio
import signal

from pykube_plane.client import Backoff, Client, ClientConfig, RetryPolicy, SharedIndexInformer

from .churn import Recorder, Storm, check_order, converged
from .servers import APIServerProcess


async def test_informer_converges_across_apiserver_restarts(tmp_path):
    process = APIServerProcess(tmp_path)
    await asyncio.to_thread(process.start)
    try:
        config = ClientConfig.from_kubeconfig(process.kubeconfig_dict()).with_namespace("restarts")
        retry = RetryPolicy(max_retries=4, initial=0.1, cap=0.5)
        reader, writer = Client(config, retry=retry), Client(config, retry=retry)
        await writer.ensure_namespace("restarts")
        storm = Storm(writer, "restarts", names=20, seed=3)
        await storm.run(rounds=10)
        recorder = Recorder()
        informer = SharedIndexInformer(reader, "configmaps", namespace="restarts",
                                       backoff=Backoff(initial=0.1, cap=1.0))
        informer.add_event_handler(recorder)
        async with informer:
            assert await informer.wait_for_sync(timeout=60)
            for sig in (signal.SIGTERM, signal.SIGKILL):
                writes = asyncio.ensure_future(storm.run(rounds=25, writers=3))
                await asyncio.sleep(0.3)                       # let the storm get going
                await asyncio.to_thread(process.restart, sig)
                await writes
                await converged(informer, writer, "restarts", [recorder])
            await storm.run(rounds=10)
            await converged(informer, writer, "restarts", [recorder])
        check_order(recorder)
        assert process.starts == 3
        assert informer.reflector.watch_restarts >= 1
        await reader.close()
        await writer.close()
    finally:
        await asyncio.to_thread(process.stop)
