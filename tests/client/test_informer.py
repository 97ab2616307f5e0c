"""Informers through both clients: caches converge under storms, handlers see every change once
and in order, a forced 410 relists, resync re-delivers, indexes answer, one watch is shared."""
from __future__ import annotations

import asyncio

from pykube_plane.client import (
    Backoff, ResourceEventHandler, SharedIndexInformer, SharedInformerFactory, index_by_label,
)

from .churn import Recorder, Storm, cache_state, check_exact, check_order, configmap, converged, rv


async def test_storm_every_change_exactly_once_in_order(cluster):
    client = cluster.client
    ns = cluster.namespace
    initial = {}
    for i in range(5):
        created = await client.create(configmap(f"cm-{i:03d}"))
        initial[f"{ns}/cm-{i:03d}"] = [("add", rv(created))]
    storm = Storm(client, ns, names=12)
    storm.exists.update({f"cm-{i:03d}": True for i in range(5)})
    first, second = Recorder(), Recorder()
    informer = SharedIndexInformer(client, "configmaps", namespace=ns)
    informer.add_event_handler(first)
    async with informer:
        assert await informer.wait_for_sync(timeout=60)
        assert cache_state(informer) == {k: v[0][1] for k, v in initial.items()}
        late = informer.add_event_handler(second)    # joins mid-stream: gets the cache as adds first
        await asyncio.gather(storm.run(rounds=40), late.wait_for_sync(60))
        state = await converged(informer, client, ns, [first, second])
    check_exact(first, storm, initial)
    check_order(second)
    assert informer.reflector.lists == 1                     # no relist was needed
    assert len(state) == sum(storm.exists.values())


async def test_forced_gone_relists_and_converges(small_window_cluster):
    cluster = small_window_cluster
    client = cluster.client
    writer = cluster.direct_client()
    ns = cluster.namespace
    recorder = Recorder()
    informer = SharedIndexInformer(client, "configmaps", namespace=ns, backoff=Backoff(initial=0.05, cap=0.5))
    informer.add_event_handler(recorder)
    storm = Storm(writer, ns, names=30, seed=11)
    async with informer:
        assert await informer.wait_for_sync(timeout=60)
        await storm.run(rounds=5)
        await converged(informer, writer, ns, [recorder])
        async with cluster.connections_refused():
            # Many more changes than the server keeps for resuming watches, all at once: over
            # HTTP the informer cannot connect meanwhile; in-process its watcher overflows and
            # is cut. Either way it resumes from a resourceVersion out of the window: 410.
            await asyncio.gather(*(writer.create(configmap(f"burst-{i:03d}"), namespace=ns) for i in range(80)))
            await storm.run(rounds=20)
        await converged(informer, writer, ns, [recorder])
    assert informer.reflector.lists >= 2, "the resumed watch should have met 410 Gone and listed again"
    check_order(recorder)


async def test_resync_redelivers_the_cache(cluster):
    client = cluster.client
    for i in range(3):
        await client.create(configmap(f"r-{i}"))
    rounds: list[set[str]] = []

    class Resynced(ResourceEventHandler):
        def on_update(self, old, new):
            if old is new:
                if not rounds or new["metadata"]["name"] in rounds[-1]:
                    rounds.append(set())
                rounds[-1].add(new["metadata"]["name"])

    informer = SharedIndexInformer(client, "configmaps", namespace=cluster.namespace)
    quiet = Recorder()
    informer.add_event_handler(Resynced(), resync_period=0.2)
    informer.add_event_handler(quiet)                          # no resync for this one
    async with informer:
        assert await informer.wait_for_sync(timeout=60)
        while len(rounds) < 3:
            await asyncio.sleep(0.05)
    assert rounds[0] == rounds[1] == {"r-0", "r-1", "r-2"}
    assert quiet.resyncs == 0


async def test_indexes_and_one_shared_watch(cluster):
    client = cluster.client
    ns = cluster.namespace
    for i in range(6):
        body = configmap(f"ix-{i}")
        body["metadata"]["labels"]["app"] = "web" if i % 2 else "db"
        await client.create(body)
    before = await cluster.watchers("configmaps")
    factory = SharedInformerFactory(client, namespace=ns)
    a = factory.informer("configmaps", indexers={"app": index_by_label("app")})
    b = factory.informer("ConfigMap")
    c = factory.informer("cm", indexers={"churn": index_by_label("churn")})
    assert a is b is c
    seen = [Recorder(), Recorder(), Recorder()]
    for recorder, informer in zip(seen, (a, b, c)):
        informer.add_event_handler(recorder)
    async with factory:
        factory.start()
        assert all((await factory.wait_for_sync(timeout=60)).values())
        assert await cluster.watchers("configmaps") == before + 1      # one watch for three consumers
        web = sorted(o["metadata"]["name"] for o in a.indexer.by_index("app", "web"))
        assert web == ["ix-1", "ix-3", "ix-5"]
        assert len(c.indexer.by_index("churn", "yes")) == 6
        assert [o["metadata"]["name"] for o in a.indexer.list(namespace=ns, label_selector="app=db")] \
            == ["ix-0", "ix-2", "ix-4"]
        await client.patch("configmaps", "ix-0", {"metadata": {"labels": {"app": "web"}}})
        await converged(a, client, ns, seen)
        assert sorted(o["metadata"]["name"] for o in a.indexer.by_index("app", "web")) == ["ix-0", "ix-1", "ix-3", "ix-5"]
    assert seen[0].events == seen[1].events == seen[2].events


async def test_handler_failures_and_removal_do_not_stop_the_others(cluster):
    client = cluster.client
    informer = SharedIndexInformer(client, "configmaps", namespace=cluster.namespace)
    calls = []

    def broken(obj):
        calls.append(obj["metadata"]["name"])
        raise RuntimeError("handler bug")

    async def slow_add(obj):
        await asyncio.sleep(0.01)

    recorder = Recorder()
    informer.add_event_handler(on_add=broken)
    removed = informer.add_event_handler(on_add=slow_add)
    informer.add_event_handler(recorder)
    async with informer:
        assert await informer.wait_for_sync(timeout=60)
        await informer.remove_event_handler(removed)
        for i in range(3):
            await client.create(configmap(f"h-{i}"))
        await converged(informer, client, cluster.namespace, [recorder])
    assert calls == ["h-0", "h-1", "h-2"]
    assert removed.delivered == 0
