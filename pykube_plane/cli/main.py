"""`kplane`: one command, a subcommand per component (like the real binaries, in one tool).

Subcommands live in their own modules and are imported only when invoked, so `kplane kv get`
does not pay for importing the API server. To add one, add a row to SUBCOMMANDS.
"""
from __future__ import annotations

import importlib
import importlib.util

import click

# name -> (module, attribute, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str, str]] = {
    "up": ("pykube_plane.cli.up_cmd", "up", "Run the all-in-one control plane on its embedded store."),
    "store": ("pykube_plane.cli.store_cmd", "store", "Run one store member (etcd v3 API)."),
    "kv": ("pykube_plane.cli.kv_cmd", "kv", "etcdctl-like client for a store or etcd."),
    "apiserver": ("pykube_plane.cli.apiserver_cmd", "apiserver", "Run the Kubernetes API server."),
    "controller-manager": ("pykube_plane.cli.controller_manager_cmd", "controller_manager",
                           "Run the controller manager (the control loops)."),
    "scheduler": ("pykube_plane.cli.scheduler_cmd", "scheduler", "Run the scheduler (binds pods to nodes)."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in SUBCOMMANDS if self._available(name))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in SUBCOMMANDS or not self._available(name):
            return None
        module, attr, _ = SUBCOMMANDS[name]
        return getattr(importlib.import_module(module), attr)

    @staticmethod
    def _available(name: str) -> bool:
        return importlib.util.find_spec(SUBCOMMANDS[name][0]) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pykube-plane", prog_name="kplane")
def cli() -> None:
    """pykube-plane: a Kubernetes control plane in Python."""


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
