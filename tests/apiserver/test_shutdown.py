"""Graceful shutdown ends open watches instead of waiting for their timeoutSeconds."""
from __future__ import annotations

import json
import signal
import subprocess
import urllib.request

from pykube_plane.apiserver.auth.pki import client_ssl_context, ensure_pki
from tests.apiserver.conftest import start_server_process


def test_sigterm_with_an_open_watch_exits_cleanly(tmp_path):
    server = start_server_process(tmp_path)
    try:
        pki = ensure_pki(server.data_dir / "pki")
        ctx = client_ssl_context(pki.ca_cert_pem, pki.admin_cert_pem, pki.admin_key_pem)
        request = urllib.request.Request(server.url + "/api/v1/namespaces?watch=1&timeoutSeconds=600")
        with urllib.request.urlopen(request, context=ctx, timeout=60) as stream:
            first = json.loads(stream.readline())          # the watch is established
            assert first["type"] == "ADDED"
            server.proc.send_signal(signal.SIGTERM)
            rest = stream.read()                           # the server ends the stream itself
        assert all(json.loads(line)["type"] in ("ADDED", "BOOKMARK") for line in rest.splitlines())
        # A watch with 10 minutes left must not hold the shutdown: this bound is 40x what it takes.
        assert server.proc.wait(timeout=20) == 0
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()
