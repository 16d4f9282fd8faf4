"""The embedded etcd: a member of the cluster's etcd that this server starts and supervises (k3s' way).

`cox server --cluster-init` starts a one-member etcd; a server joining it
with `--server` adds a member of its own (etcd's MemberAdd, over the client
URLs the first server reported) and starts it with the cluster it was told,
so three servers make a three-member etcd with no separate setup. The member
is Debian's `etcd` binary, its data in DATA/etcd/, and it speaks TLS only,
peer and client, with certificates from the cluster CA (DATA/tls/etcd/):
every member's certificate serves and connects (peers are both) and names
TLS_NAME, which clients check whatever address they dialed.

The member lives and dies with its server: it is restarted when it exits,
stopped when the server stops, and killed by the kernel when the server dies
(the parent-death signal), as an etcd in k3s' own process would die with it. A
member's data outlives both: a restarted server starts its member from it,
and etcd then ignores the initial-cluster flags.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import pathlib
import secrets
import socket
import ssl
import urllib.request

from cryptography import x509

from controlplane.apiserver import tls
from controlplane.store import StoreError
from controlplane.store.etcd import EtcdStore, EtcdTLS

log = logging.getLogger(__name__)

ETCD_BINARY = "/usr/bin/etcd"
TLS_NAME = "coxswain-etcd"
DEFAULT_CLIENT_PORT, DEFAULT_PEER_PORT = 2379, 2380
# EtcdStore needs timed watch progress (controlplane/store/etcd.py); etcd's default is ten minutes.
PROGRESS_INTERVAL = "200ms"
RESTART_SECONDS = 1.0
STARTUP_SECONDS = 60.0
# util-linux's setpriv sets the parent-death signal and execs etcd (a preexec_fn in a process with
# gRPC's threads is not safe); the signal survives the exec.
DIE_WITH_SERVER = ["/usr/bin/setpriv", "--pdeathsig", "TERM", "--"]


class EtcdMemberError(Exception):
    """The member could not be started or joined."""


def _url(address: str, port: int) -> str:
    return f"https://[{address}]:{port}" if ":" in address else f"https://{address}:{port}"


def endpoint(url: str) -> str:
    """host:port of an https:// URL."""
    return url.removeprefix("https://").rstrip("/")


class EtcdMember:
    def __init__(self, data_dir: pathlib.Path, *, address: str, client_port: int = DEFAULT_CLIENT_PORT,
                 peer_port: int = DEFAULT_PEER_PORT):
        self.dir = data_dir / "etcd"
        self.tls_dir = data_dir / "tls"
        self.address = address
        self.client_url = _url(address, client_port)
        self.peer_url = _url(address, peer_port)
        self._local_client_url = _url("127.0.0.1", client_port)
        self._process: asyncio.subprocess.Process | None = None
        self._supervisor: asyncio.Task | None = None
        self._stopping = False
        self.restarts = 0

    @property
    def has_data(self) -> bool:
        return (self.dir / "member").is_dir()

    @property
    def name(self) -> str:
        """Chosen on first start, kept in DATA/etcd/name: unique, and stable across restarts."""
        path = self.dir / "name"
        if not path.exists():
            self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            path.write_text(f"{socket.gethostname()}-{secrets.token_hex(4)}\n")
        return path.read_text().strip()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def client_tls(self) -> EtcdTLS:
        """The client certificate this server's store uses (members require one)."""
        cert, key = tls.ensure_cert(self.tls_dir / "etcd", "client", common_name="coxswain-etcd-client", names=[],
                                    usages=[x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH], ca_dir=self.tls_dir)
        return EtcdTLS(ca=(self.tls_dir / "ca.crt").read_bytes(), cert=cert, key=key, server_name=TLS_NAME)

    def _member_cert(self) -> None:
        usages = [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH, x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]
        tls.ensure_cert(self.tls_dir / "etcd", "member", common_name=TLS_NAME,
                        names=[TLS_NAME, "localhost", "127.0.0.1", self.address], usages=usages, ca_dir=self.tls_dir)

    def _command(self, *, initial_cluster: str, state: str) -> list[str]:
        member, ca = self.tls_dir / "etcd" / "member", self.tls_dir / "ca.crt"
        listen = sorted({self.client_url, self._local_client_url})
        return [ETCD_BINARY, "--name", self.name, "--data-dir", str(self.dir / "member"),
                "--listen-client-urls", ",".join(listen), "--advertise-client-urls", self.client_url,
                "--listen-peer-urls", self.peer_url, "--initial-advertise-peer-urls", self.peer_url,
                "--initial-cluster", initial_cluster, "--initial-cluster-state", state,
                "--cert-file", f"{member}.crt", "--key-file", f"{member}.key",
                "--client-cert-auth", "--trusted-ca-file", str(ca),
                "--peer-cert-file", f"{member}.crt", "--peer-key-file", f"{member}.key",
                "--peer-client-cert-auth", "--peer-trusted-ca-file", str(ca),
                "--experimental-watch-progress-notify-interval", PROGRESS_INTERVAL,
                "--logger", "zap", "--log-level", "warn"]

    async def start(self, *, join_urls: list[str] | None = None) -> None:
        """Start the member: from its data if it has some, else as a new cluster's first member, or,
        given `join_urls` (client URLs of the cluster's members), as a new member of that cluster."""
        self._stopping = False
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._member_cert()
        if self.has_data:
            initial, state = f"{self.name}={self.peer_url}", "existing"
        elif join_urls:
            initial, state = await self._add_to(join_urls), "existing"
        else:
            initial, state = f"{self.name}={self.peer_url}", "new"
        command = self._command(initial_cluster=initial, state=state)
        await self._spawn(command)
        self._supervisor = asyncio.create_task(self._supervise(command), name="etcd-member")
        await self._wait_healthy()
        log.info("etcd member %s serving %s (peers at %s)", self.name, self.client_url, self.peer_url)

    async def _add_to(self, join_urls: list[str]) -> str:
        """MemberAdd this member to the cluster; etcd's --initial-cluster for it."""
        target = "etcd://" + ",".join(endpoint(u) for u in join_urls)
        try:
            store = await EtcdStore.open(target, tls=self.client_tls())
        except Exception as e:
            raise EtcdMemberError(f"cannot reach the cluster's etcd at {', '.join(join_urls)}: {e}") from None
        try:
            known = {m.peer_urls[0]: m for m in await store.members() if m.peer_urls}
            if self.peer_url in known:   # added before, never started (the server died in between)
                members = list(known.values())
            else:
                members = await self._member_add(store)
        finally:
            await store.close()
        return ",".join(f"{m.name or self.name}={m.peer_urls[0]}" for m in members
                        if m.name or m.peer_urls[0] == self.peer_url)

    async def _member_add(self, store: EtcdStore) -> list:
        """MemberAdd, waiting while etcd refuses it as unsafe: it adds a voting member only once every
        member has been connected for a while (its strict reconfiguration check), e.g. just after a join."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STARTUP_SECONDS
        while True:
            try:
                return (await store.add_member(self.peer_url))[1]
            except StoreError as e:
                if "unhealthy cluster" not in str(e) or loop.time() > deadline:
                    raise EtcdMemberError(f"etcd refused to add member {self.peer_url}: {e}") from None
            await asyncio.sleep(1.0)

    async def _spawn(self, command: list[str]) -> None:
        with open(self.dir / "etcd.log", "ab") as out:
            self._process = await asyncio.create_subprocess_exec(
                *DIE_WITH_SERVER, *command, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out)

    async def _supervise(self, command: list[str]) -> None:
        while True:
            code = await self._process.wait()
            if self._stopping:
                return
            self.restarts += 1
            log.warning("etcd member %s exited with %s; restarting it", self.name, code)
            await asyncio.sleep(RESTART_SECONDS)
            await self._spawn(command)

    def _health(self) -> bool:
        context = ssl.create_default_context(cafile=str(self.tls_dir / "ca.crt"))
        context.check_hostname = False   # the member certificate names TLS_NAME; the CA is what is checked
        member = self.tls_dir / "etcd" / "member"
        context.load_cert_chain(f"{member}.crt", f"{member}.key")
        try:
            with urllib.request.urlopen(f"{self._local_client_url}/health", timeout=2, context=context) as r:
                return b'"true"' in r.read()
        except OSError:
            return False

    async def healthy(self) -> bool:
        """Does the member answer its /health as part of a cluster with a leader?"""
        return await asyncio.to_thread(self._health)

    async def _wait_healthy(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STARTUP_SECONDS
        while loop.time() < deadline:
            if await self.healthy():
                return
            await asyncio.sleep(0.2)
        raise EtcdMemberError(f"etcd member {self.name} not healthy after {STARTUP_SECONDS:.0f}s; "
                              f"its log: {self.dir / 'etcd.log'}")

    async def stop(self) -> None:
        self._stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            try:
                await asyncio.wait_for(self._process.wait(), 10)
            except asyncio.TimeoutError:
                self._process.kill()
                await self._process.wait()
        with contextlib.suppress(asyncio.CancelledError):
            if self._supervisor is not None:
                await self._supervisor
