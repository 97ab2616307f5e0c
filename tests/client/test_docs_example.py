"""The example controller of docs/client.md, run as written, through both clients: it publishes
its ConfigMap everywhere, puts it back when deleted or edited, and serves new namespaces."""
from __future__ import annotations

import asyncio
import re

from pykube_plane.client import NotFound

from tests.conftest import ROOT


def example_namespace() -> dict:
    text = (ROOT / "docs" / "client.md").read_text()
    blocks = re.findall(r"```python\n(# example: .*?)```", text, re.S)
    assert len(blocks) == 1, "docs/client.md should hold one example controller"
    namespace: dict = {}
    exec(compile(blocks[0], "docs/client.md", "exec"), namespace)
    return namespace


async def published(client, namespace: str) -> dict | None:
    try:
        return await client.get("configmaps", "team-info", namespace=namespace)
    except NotFound:
        return None


async def test_the_documented_controller_works(cluster):
    example = example_namespace()
    client = cluster.client
    ns = cluster.namespace
    controller = asyncio.ensure_future(example["main"](client, "replica-1"))
    try:
        async def wait_for(check, what):
            """Poll until `check()` (a hang guard, not a timing assertion)."""
            async def poll():
                while not await check():
                    await asyncio.sleep(0.05)
            try:
                await asyncio.wait_for(poll(), 60)
            except asyncio.TimeoutError:
                raise AssertionError(f"the controller never did: {what}") from None

        async def is_published(namespace=ns):
            cm = await published(client, namespace)
            return cm is not None and cm.get("data") == example["DATA"]

        await wait_for(is_published, "the first ConfigMap")
        first = await published(client, ns)
        await client.delete("configmaps", "team-info", namespace=ns)
        await wait_for(lambda: _recreated(client, ns, first["metadata"]["uid"]), "re-creation")
        await client.patch("configmaps", "team-info", {"data": {"owner": "someone-else"}}, namespace=ns)
        await wait_for(is_published, "repair of an edit")
        await client.ensure_namespace(f"{ns}-new")
        await wait_for(lambda: is_published(f"{ns}-new"), "a new namespace served")
        assert not controller.done()
    finally:
        controller.cancel()
        await asyncio.gather(controller, return_exceptions=True)
    lease = await client.get("leases", "team-info-publisher", namespace="default")
    assert lease["spec"]["holderIdentity"] == ""          # released on the way out


async def _recreated(client, namespace: str, old_uid: str) -> bool:
    cm = await published(client, namespace)
    return cm is not None and cm["metadata"]["uid"] != old_uid
