"""One store member as a process: the store (a Raft member talking to its peers on the peer
URLs), the etcd v3 gRPC API on the client URLs, and /health + /metrics (Prometheus) over HTTP on
the metrics URLs.

    config = MemberConfig.single("default", "data", client_url="http://127.0.0.1:2379")
    async with Member(config) as member:
        await member.wait_stopped()        # until stop() (kplane store: SIGTERM / SIGINT), or
                                           # until this member is removed from the cluster

The flags mirror etcd's so that a kplane member drops in where an etcd member was:
--initial-cluster names the founding members, --initial-cluster-state new founds the cluster and
existing joins one after `etcdctl member add`. Once the data dir exists it alone decides.

Test aid: with `fault_injection` (--experimental-peer-fault-injection) the metrics URLs also serve
`POST /debug/peer-fault/isolate` (drop all Raft traffic to and from every peer, or only the peers
given as `?peers=<hex id>,...`) and `POST /debug/peer-fault/heal`: a network partition that a test
can impose on a real process. Off by default; never for production.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from .etcdpb import rpc_pb2 as pb
from .etcdserver import EtcdServer, MemberInfo
from .kv import CompactedError, StoreError
from .membership import ClusterConfig
from .requests import DEFAULT_MAX_REQUEST_BYTES
from .store import Store

log = logging.getLogger("pykube_plane.store.member")


class ConfigError(ValueError):
    """A flag combination etcd would refuse too; the message says which and why."""


def parse_urls(text: str | list[str]) -> list[str]:
    urls = text if isinstance(text, list) else [u.strip() for u in text.split(",") if u.strip()]
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.port is None:
            raise ConfigError(f"URL {url!r} must be http(s)://host:port")
        if parts.scheme == "https":
            raise ConfigError(f"URL {url!r}: TLS listeners are not supported yet, use http://")
    return urls


def parse_initial_cluster(text: str) -> dict[str, list[str]]:
    """"a=http://h:2380,b=http://h2:2380" -> {"a": [...], "b": [...]} (a name may repeat)."""
    cluster: dict[str, list[str]] = {}
    for item in (i.strip() for i in text.split(",") if i.strip()):
        name, sep, url = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"--initial-cluster item {item!r} must be name=peer-url")
        cluster.setdefault(name, []).extend(parse_urls(url))
    return cluster


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def parse_retention(text: str, mode: str) -> float | int:
    """etcd's --auto-compaction-retention: periodic -> seconds (a bare number means hours),
    revision -> a revision count. 0 turns auto compaction off."""
    text = text.strip() or "0"
    if mode == "revision":
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"--auto-compaction-retention {text!r}: revision mode needs an integer")
    if re.fullmatch(r"\d+", text):
        return int(text) * 3600.0
    total, pos = 0.0, 0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            break
        value, unit = float(m.group(1)), m.group(2)
        total += value * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[unit]
        pos = m.end()
    if pos != len(text):
        raise ConfigError(f"--auto-compaction-retention {text!r}: expected hours or a duration like 30m")
    return total


@dataclass
class MemberConfig:
    name: str
    data_dir: Path
    listen_client_urls: list[str]
    advertise_client_urls: list[str]
    listen_peer_urls: list[str]
    initial_advertise_peer_urls: list[str]
    initial_cluster: dict[str, list[str]]
    initial_cluster_state: str = "new"
    listen_metrics_urls: list[str] = field(default_factory=list)
    quota_backend_bytes: int = 0
    auto_compaction_mode: str = "periodic"
    auto_compaction_retention: float | int = 0
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    snapshot_count: int = 10_000
    catch_up_entries: int = 5000
    fsync: bool = True
    initial_cluster_token: str = "etcd-cluster"
    heartbeat_interval_ms: int = 100
    election_timeout_ms: int = 1000
    fault_injection: bool = False

    @classmethod
    def single(cls, name: str, data_dir: str | Path, *, client_url: str,
               peer_url: str = "http://127.0.0.1:2380", **kwargs: Any) -> "MemberConfig":
        return cls(name, Path(data_dir), [client_url], [client_url], [peer_url], [peer_url],
                   {name: [peer_url]}, **kwargs)

    def validate(self) -> None:
        if self.initial_cluster_state not in ("new", "existing"):
            raise ConfigError("--initial-cluster-state must be 'new' or 'existing'")
        if self.name not in self.initial_cluster:
            raise ConfigError(f"couldn't find local name {self.name!r} in the initial cluster "
                              f"configuration")
        if sorted(self.initial_cluster[self.name]) != sorted(self.initial_advertise_peer_urls):
            raise ConfigError(f"--initial-cluster has {self.name}={','.join(self.initial_cluster[self.name])} "
                              f"but --initial-advertise-peer-urls has "
                              f"{','.join(self.initial_advertise_peer_urls)}")
        if self.heartbeat_interval_ms <= 0:
            raise ConfigError("--heartbeat-interval must be positive")
        if self.election_timeout_ms < 5 * self.heartbeat_interval_ms:
            # etcd's rule: an election timeout under 5 heartbeats makes elections flap
            raise ConfigError(f"--election-timeout[{self.election_timeout_ms}ms] should be at "
                              f"least as 5 times as --heartbeat-interval"
                              f"[{self.heartbeat_interval_ms}ms]")
        if self.initial_cluster_state == "existing" and len(self.initial_cluster) < 2:
            raise ConfigError("--initial-cluster-state existing: --initial-cluster must also name "
                              "members of the cluster to join")
        if self.auto_compaction_mode not in ("periodic", "revision"):
            raise ConfigError("--auto-compaction-mode must be 'periodic' or 'revision'")
        if not self.listen_client_urls:
            raise ConfigError("--listen-client-urls is required")


def _host_port(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{parts.port}"


class Member:
    def __init__(self, config: MemberConfig) -> None:
        config.validate()
        self.config = config
        self.store = None
        self.server: EtcdServer | None = None
        self.client_ports: list[int] = []
        self.metrics_ports: list[int] = []
        self._http: web.AppRunner | None = None
        self._compactor: asyncio.Task | None = None
        self._background: list[asyncio.Task] = []
        self._stopped = asyncio.Event()
        self.removed = False

    async def __aenter__(self) -> "Member":
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    async def start(self) -> None:
        cfg = self.config
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        cluster = ClusterConfig(
            cfg.name, cfg.initial_cluster, list(cfg.listen_peer_urls),
            list(cfg.initial_advertise_peer_urls), list(cfg.advertise_client_urls),
            state=cfg.initial_cluster_state, token=cfg.initial_cluster_token,
            tick_interval=cfg.heartbeat_interval_ms / 1000.0,
            election_ticks=max(cfg.election_timeout_ms // cfg.heartbeat_interval_ms, 2))
        self.store = await Store.open(cfg.data_dir, fsync=cfg.fsync, snapshot_count=cfg.snapshot_count,
                                      max_request_bytes=cfg.max_request_bytes, cluster=cluster,
                                      catch_up_entries=cfg.catch_up_entries)
        try:
            member = MemberInfo(cfg.name, list(cfg.initial_advertise_peer_urls),
                                list(cfg.advertise_client_urls))
            self.server = EtcdServer(self.store, member, quota_bytes=cfg.quota_backend_bytes,
                                     alarms_path=cfg.data_dir / "member" / "alarms.json",
                                     max_request_bytes=cfg.max_request_bytes)
            self.client_ports = await self.server.start(*(_host_port(u) for u in cfg.listen_client_urls))
            if cfg.listen_metrics_urls:
                await self._start_http()
            if cfg.auto_compaction_retention:
                self._compactor = asyncio.get_running_loop().create_task(
                    self._auto_compact(), name="store-auto-compaction")
            loop = asyncio.get_running_loop()
            self._background = [
                loop.create_task(self.store.publish(cfg.name, list(cfg.advertise_client_urls)),
                                 name="member-publish"),
                loop.create_task(self._stop_when_removed(), name="member-removal"),
            ]
        except BaseException:
            await self.stop()
            raise
        log.info("member %s (%x) serving clients on %s", cfg.name, self.store.member_id,
                 ", ".join(cfg.listen_client_urls))

    async def _stop_when_removed(self) -> None:
        await self.store.wait_removed()
        log.warning("member %s (%x) was removed from the cluster; stopping", self.config.name,
                    self.store.member_id)
        self.removed = True
        asyncio.get_running_loop().create_task(self.stop())

    async def stop(self) -> None:
        """Stop serving, then close the store (its queued writes finish first)."""
        current = asyncio.current_task()
        for task in self._background:
            if task is not current:
                task.cancel()
        self._background = []
        if self._compactor is not None:
            self._compactor.cancel()
            await asyncio.gather(self._compactor, return_exceptions=True)
            self._compactor = None
        if self.server is not None:
            await self.server.stop(grace=1.0)
            self.server = None
        if self._http is not None:
            await self._http.cleanup()
            self._http = None
        if self.store is not None:
            await self.store.close()
            self.store = None
        self._stopped.set()

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    # --- /health and /metrics -------------------------------------------------------------------
    async def _start_http(self) -> None:
        app = web.Application()
        app.router.add_get("/health", self._health)
        app.router.add_get("/livez", self._livez)
        app.router.add_get("/readyz", self._health)
        app.router.add_get("/metrics", self._metrics)
        if self.config.fault_injection:
            app.router.add_post("/debug/peer-fault/isolate", self._fault_isolate)
            app.router.add_post("/debug/peer-fault/heal", self._fault_heal)
        self._registry = CollectorRegistry(auto_describe=True)
        self._registry.register(_MemberCollector(self))
        self._http = web.AppRunner(app, access_log=None)
        await self._http.setup()
        for url in self.config.listen_metrics_urls:
            parts = urlsplit(url)
            site = web.TCPSite(self._http, parts.hostname, parts.port)
            await site.start()
            self.metrics_ports.append(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]

    async def _health(self, request: web.Request) -> web.Response:
        """etcd's /health: a read through the store, and no active alarm."""
        reason = ""
        if self.store is None or self.server is None:
            reason = "NOT STARTED"
        elif not self.store.leader_id:
            reason = "RAFT NO LEADER"  # etcd's words, before it tries a read
        else:
            try:
                await self.store.range(b"health")
            except StoreError as exc:
                reason = exc.message
            alarms = self.server.alarms.active()
            if alarms and not reason:
                reason = "ALARM " + " ".join(pb.AlarmType.Name(a) for _, a in alarms)
        body = {"health": "false" if reason else "true", "reason": reason}
        return web.json_response(body, status=503 if reason else 200, dumps=_compact_json)

    async def _fault_isolate(self, request: web.Request) -> web.Response:
        """Test aid: cut this member's Raft traffic to every peer, or to ?peers=<hex id>,..."""
        transport = self.store.transport if self.store is not None else None
        if transport is None:
            return web.Response(status=503, text="no peer transport")
        peers = request.query.get("peers", "")
        transport.isolate([int(p, 16) for p in peers.split(",") if p] if peers else None)
        return web.Response(text="isolated\n")

    async def _fault_heal(self, request: web.Request) -> web.Response:
        transport = self.store.transport if self.store is not None else None
        if transport is not None:
            transport.heal()
        return web.Response(text="healed\n")

    async def _livez(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(self._registry),
                            headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    # --- auto compaction ------------------------------------------------------------------------
    async def _auto_compact(self) -> None:
        """etcd's compactors. periodic: every retention/10 remember the revision; compact to the
        one remembered `retention` ago. revision: every 5 minutes keep the last N revisions."""
        cfg = self.config
        if cfg.auto_compaction_mode == "revision":
            interval, keep = 300.0, int(cfg.auto_compaction_retention)
            while True:
                await asyncio.sleep(interval)
                await self._compact_to(self.store.revision - keep)
        retention = float(cfg.auto_compaction_retention)
        interval = min(max(retention / 10, 0.1), 3600.0)
        samples: deque[tuple[float, int]] = deque()
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            samples.append((now, self.store.revision))
            target = 0
            while samples and now - samples[0][0] >= retention:
                target = samples.popleft()[1]
            if target:
                await self._compact_to(target)
            await asyncio.sleep(interval)

    async def _compact_to(self, revision: int) -> None:
        if revision <= self.store.compact_revision or revision <= 0:
            return
        try:
            await self.store.compact(revision)
            log.info("auto compaction: compacted to revision %d", revision)
        except CompactedError:
            pass
        except StoreError as exc:
            log.warning("auto compaction to %d failed: %s", revision, exc.message)


def _compact_json(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))  # etcd's /health body: {"health":"true",...}


class _MemberCollector:
    """etcd-named gauges read from the store at scrape time (nothing on the request path)."""

    def __init__(self, member: Member) -> None:
        self._member = member

    def describe(self):
        return []

    def collect(self):
        m = self._member
        if m.store is None or m.server is None:
            return
        st = m.store.status()

        def gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
            g = GaugeMetricFamily(name, doc)
            g.add_metric([], value)
            return g

        yield gauge("etcd_server_has_leader", "Whether or not a leader exists. 1 is existence.",
                    1 if st.leader else 0)
        yield gauge("etcd_server_is_leader", "Whether or not this member is a leader.",
                    1 if st.leader == st.member_id else 0)
        yield gauge("etcd_mvcc_db_total_size_in_bytes", "Total size of the store in bytes.", st.db_size)
        yield gauge("etcd_mvcc_db_total_size_in_use_in_bytes", "Size of the store in use, in bytes.",
                    st.db_size_in_use)
        yield gauge("etcd_server_quota_backend_bytes", "Current backend storage quota size in bytes.",
                    m.server.quota.quota_bytes)
        yield gauge("etcd_debugging_mvcc_current_revision", "The current revision of the store.",
                    st.revision)
        yield gauge("etcd_debugging_mvcc_compact_revision", "The last compaction revision.",
                    st.compact_revision)
        yield gauge("etcd_debugging_mvcc_keys_total", "Total number of keys.", st.keys)
        yield gauge("etcd_server_raft_term", "The raft term of this member.", st.raft_term)
        yield gauge("etcd_server_raft_applied_index", "The applied raft index.", st.raft_applied_index)
        yield gauge("etcd_network_active_watch_streams", "Open gRPC watch streams.",
                    m.server.watch.streams)
        alarms = GaugeMetricFamily("etcd_server_alarm", "Active alarms (1 when raised).",
                                   labels=["alarm"])
        for _, a in m.server.alarms.active():
            alarms.add_metric([pb.AlarmType.Name(a)], 1)
        yield alarms
