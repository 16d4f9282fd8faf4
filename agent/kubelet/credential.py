"""The node's own credential: asked for with the join token, kept on disk, renewed before it expires.

The join token only lets its holder ask for a node credential
(controlplane/apiserver/nodecredentials.py). The agent asks once, as
Kubernetes' kubelet does with its bootstrap kubeconfig, keeps the answer as a
client config at <root-dir>/kubelet.yaml (usable with `cox --config`), and
from then on is system:node:<name> and nothing else. Before two thirds of the
credential's life have passed it asks again as the node itself; if the
credential stopped working (revoked, or expired while the agent was down) it
bootstraps again with the join token.
"""
import asyncio
import dataclasses
import logging
import time
from pathlib import Path
from typing import Awaitable, Callable

from controlplane.api.kinds import KINDS
from controlplane.client import Client, ClientConfig, load_config
from controlplane.client.config import ConfigError
from controlplane.client.errors import ApiError, Unauthenticated

log = logging.getLogger(__name__)

KUBELET_CONFIG = "kubelet.yaml"
RENEW_AFTER = 2 / 3           # of the credential's remaining life
RETRY_SECONDS = (1, 2, 5, 10, 30)

Bootstrap = Callable[[], Awaitable[ClientConfig]]   # the join token's client config, on demand


async def request_credential(config: ClientConfig, node_name: str) -> ClientConfig:
    """Ask, as whoever `config` is, for a credential of `node_name`; a config that uses it."""
    request = KINDS["NodeCredentialRequest"].new(metadata={"generate_name": f"{node_name}-"},
                                                 spec={"node_name": node_name})
    async with Client(config) as client:
        issued = await client.resource("NodeCredentialRequest").create(request)
    return dataclasses.replace(config, token=issued.status.token,
                               expires=issued.status.expiration_timestamp.seconds)


async def _works(config: ClientConfig) -> bool:
    """False only if the server says the credential is no good; a server that does not answer
    is no reason to drop it (the agent keeps its pods running and tries later)."""
    async with Client(config, timeout=10) as client:
        try:
            await client.version()
        except Unauthenticated:
            return False
        except ApiError:
            pass
    return True


async def node_config(root: Path, node_name: str, bootstrap: Bootstrap, *, server: str) -> ClientConfig:
    """The node's credential: the kept one if it is for `server` and still works, else a new one."""
    saved = root / KUBELET_CONFIG
    try:
        config = load_config(saved)
    except ConfigError:
        config = None
    if config is not None and config.server == server and config.expires > time.time() and await _works(config):
        return config
    config = await request_credential(await bootstrap(), node_name)
    config.write(saved)
    log.info("node %s: bootstrapped a credential of its own, valid until %s", node_name,
             time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(config.expires)))
    return config


class Renewer:
    """Keeps the client's credential current; runs for the agent's life."""

    def __init__(self, client: Client, *, root: Path, node_name: str, bootstrap: Bootstrap, clock=time.time):
        self._client = client
        self._saved = root / KUBELET_CONFIG
        self._node = node_name
        self._bootstrap = bootstrap
        self._clock = clock
        self.renewals = 0

    def due_in(self) -> float:
        """Seconds until the credential should be renewed."""
        return max(0.0, (self._client.config.expires - self._clock()) * RENEW_AFTER)

    async def renew(self) -> None:
        try:
            config = await request_credential(self._client.config, self._node)
        except Unauthenticated:
            log.warning("node %s: its credential no longer works; bootstrapping again", self._node)
            config = await request_credential(await self._bootstrap(), self._node)
        config.write(self._saved)
        self._client.use_credential(config)
        self.renewals += 1
        log.info("node %s: credential renewed, valid until %s", self._node,
                 time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(config.expires)))

    async def run(self) -> None:
        failures = 0
        while True:
            await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1] if failures else self.due_in())
            try:
                await self.renew()
                failures = 0
            except (ApiError, OSError) as e:
                failures += 1
                log.warning("node %s: renewing its credential failed (%s); trying again", self._node, e)
