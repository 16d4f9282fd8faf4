"""Assemble and run the API server: store, registries, caches, gRPC.

`APIServer` is what `cox server` runs, and what tests embed. It is stateless
beyond its store: several can run over one etcd.
"""
import asyncio
import dataclasses
import logging
import pathlib

import grpc
from grpc_health.v1 import health, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from controlplane import __version__
from controlplane.api import nodeidentity
from controlplane.api.kinds import KINDS
from controlplane.api.v1 import cluster_pb2
from controlplane.api.wellknown import NODE_LEASE_NAMESPACE
from controlplane.apiserver import (accessreview, admission, advertise, allocator, auth, bootstrap,
                                    clusterbootstrap, encryption, errors, etcdmember, nodecredentials, quotas,
                                    signedtokens, tls)
from controlplane.apiserver.agents import Agents
from controlplane.apiserver.eviction import Evictions
from controlplane.apiserver.authz import Attributes, Authorizer, Verdict, policy, reconcile
from controlplane.apiserver.authz.escalation import RBACEscalation
from controlplane.apiserver.authz.noderestriction import NodeRestriction
from controlplane.apiserver.decoding import UndecodableRequests, decoder
from controlplane.apiserver.kubernetesservice import KubernetesService, in_cluster_names, service_ip
from controlplane.apiserver.podstreams import PodStreams
from controlplane.apiserver.proxyrules import ProxyRules
from controlplane.apiserver.registry import Registry
from controlplane.apiserver.rest import kubeconfig
from controlplane.apiserver.rest.names import REST_PORT_OFFSET
from controlplane.apiserver.rest.server import RestServer
from controlplane.apiserver.service import KindService, generic_handler
from controlplane.apiserver.watchcache import StoreFeed, WatchCache
from controlplane.metrics import apiserver as metrics
from controlplane.metrics import storage as storage_metrics
from controlplane.store import CompactedError, Store, StoreError, open_store

log = logging.getLogger(__name__)

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", NODE_LEASE_NAMESPACE)
# Kubernetes' built-in classes for the pods a cluster cannot run without.
SYSTEM_PRIORITY_CLASSES = {"system-node-critical": 2_000_001_000, "system-cluster-critical": 2_000_000_000}
EVENT_TTL_SECONDS = 3600

# Watches are long-lived: ping idle connections so dead peers are noticed. Clients ping every 30 s
# (controlplane/client/client.py); gRPC's default floor between a client's pings while the server sends
# nothing is 5 minutes: each ping closer than that is a strike, and the third closes the connection (GOAWAY
# "too_many_pings"): every quiet watch was cut after a minute and a half. The floor is lowered to
# MIN_CLIENT_PING_MS (as etcd's --grpc-keepalive-min-time), not removed: a client flooding the server
# with pings is still cut off.
MIN_CLIENT_PING_MS = 5_000
_GRPC_OPTIONS = [
    ("grpc.max_receive_message_length", 8 * 1024 * 1024),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.http2.min_ping_interval_without_data_ms", MIN_CLIENT_PING_MS),
    ("grpc.keepalive_permit_without_calls", 1),
]


@dataclasses.dataclass
class ServerOptions:
    data_dir: pathlib.Path = pathlib.Path("/var/lib/cox")
    listen: str = "0.0.0.0:6443"
    datastore: str = ""                       # default: sqlite in data_dir
    tls_sans: list[str] = dataclasses.field(default_factory=list)
    user_config: pathlib.Path | None = None   # also write the admin config here
    watch_history: int = 10_000               # events each kind's watch cache keeps for resuming watchers
    bookmark_seconds: float = 10.0            # how often idle watchers get a BOOKMARK
    service_cidr: str = "10.96.0.0/12"        # ClusterIPs come from here
    node_port_range: str = "30000-32767"
    repair_seconds: float = 300.0             # how often leaked ClusterIPs/NodePorts are looked for
    compaction_seconds: float = 300.0         # store history older than this is compacted away
    node_credential_seconds: int = nodeidentity.DEFAULT_CREDENTIAL_SECONDS   # a node credential's lifetime
    credential_cleanup_seconds: float = 60.0  # how often expired and superseded node credentials are deleted
    superseded_credential_seconds: float = 600.0  # ... a renewed one's predecessor this long after its renewal
    rest_listen: str = ""                     # the Kubernetes REST API; default: listen's port + 1
    encryption_config: pathlib.Path | None = None  # EncryptionConfiguration; default: the server's own in tls/
    advertise_address: str = ""               # put in default/kubernetes' Endpoints (default: advertise.py)
    endpoint_reconcile_seconds: float = 10.0  # how often this server renews its place in those Endpoints
    join: str = ""                            # another server's host:port to join (cox server --server)
    server_token: str = ""                    # the cluster's server token (--token), to join with or to set
    cluster_init: bool = False                # run an embedded etcd member, a new cluster's first
    etcd_client_port: int = etcdmember.DEFAULT_CLIENT_PORT   # the embedded member's ports
    etcd_peer_port: int = etcdmember.DEFAULT_PEER_PORT


def _host_port(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


class APIServer:
    def __init__(self, options: ServerOptions):
        self.options = options
        self.store: Store | None = None
        self.feed: StoreFeed | None = None
        self.caches: dict[str, WatchCache] = {}
        self.registries: dict[str, Registry] = {}
        self.credentials: bootstrap.Credentials | None = None
        self.port = 0
        self._grpc: grpc.aio.Server | None = None
        self.services: dict[str, KindService] = {}
        self.rest: RestServer | None = None
        self._housekeeping: list[asyncio.Task] = []
        self.kubernetes_service: KubernetesService | None = None
        self.etcd: etcdmember.EtcdMember | None = None   # the embedded member, if this server runs one
        self.server_token = ""
        self._raw_store: Store | None = None   # beneath encryption: the bootstrap data is sealed already
        self._stopped = False

    @property
    def address(self) -> str:
        """host:port a local client dials."""
        host, _ = _host_port(self.options.listen)
        if host in ("", "0.0.0.0", "::"):
            host = "127.0.0.1"
        return f"{host}:{self.port}"

    async def start(self) -> None:
        opts = self.options
        host, port = _host_port(opts.listen)
        advertised = advertise.advertise_address(host, given=opts.advertise_address)
        cluster_ip = service_ip(opts.service_cidr)
        names = tls.default_names(host) + ([advertised] if advertised else []) + in_cluster_names(cluster_ip)
        joined = None
        if opts.join and not (opts.data_dir / "tls" / "ca.key").exists():
            joined = await clusterbootstrap.fetch(opts.join, opts.server_token)   # before anything is written
            if not opts.datastore and not joined.etcd_client_urls:
                raise clusterbootstrap.BootstrapError(
                    f"--datastore: {opts.join} runs no embedded etcd: give the datastore the cluster uses")
            opts.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            clusterbootstrap.write_files(opts.data_dir, joined.files)
        self.credentials = bootstrap.prepare(opts.data_dir, names=names + opts.tls_sans)
        self.server_token = clusterbootstrap.ensure_token(opts.data_dir, self.credentials.ca_pem,
                                                          given=opts.server_token)
        plurals = [kind.plural for kind in KINDS.values()]
        encrypt = encryption.open_config(opts.encryption_config, tls_dir=opts.data_dir / "tls", known_resources=plurals)
        self._raw_store = await self._open_store(advertised, joined)
        if self._raw_store.name == "etcd":   # a SQLite file is this server's alone: nobody joins it
            await clusterbootstrap.publish(self._raw_store, opts.data_dir, self.server_token)
        self.store = encryption.EncryptingStore(storage_metrics.MeasuredStore(self._raw_store), encrypt,
                                                resources=plurals)
        self._build_registries()
        await self.feed.start()
        await self._ensure_system_objects()
        self._grpc = self._build_grpc()
        # The chain includes the CA, so a joining agent can fetch it (client/join.py).
        chain = self.credentials.cert_pem + self.credentials.ca_pem
        creds = grpc.ssl_server_credentials([(self.credentials.key_pem, chain)])
        self.port = self._grpc.add_secure_port(f"{host or '0.0.0.0'}:{port}", creds)
        # Before the port answers: whoever sees it open finds the config that names it.
        bootstrap.write_admin_config(opts.data_dir, self.credentials, self.address,
                                     [opts.user_config] if opts.user_config else [])
        await self._start_rest()
        kubeconfig.write(opts.data_dir / kubeconfig.FILE_NAME, kubeconfig.kubeconfig(
            server=f"https://{self.rest_address}", ca_pem=self.credentials.ca_pem.decode(),
            token=self.credentials.admin_token))
        await self._grpc.start()   # last: a client that finds the gRPC port open finds both configs too
        if not advertised:
            log.warning("no address to advertise (no default route): give --advertise-address "
                        "for pods to reach this API server through Service default/kubernetes")
        self.kubernetes_service = KubernetesService(
            self.registries, self.caches, service_cidr=opts.service_cidr, address=advertised, port=self.port,
            interval=opts.endpoint_reconcile_seconds)
        await self.kubernetes_service.start()
        self._housekeeping = [
            asyncio.create_task(self._every(self.options.repair_seconds, self._repair_allocations),
                                name="allocation-repair"),
            asyncio.create_task(self._every(self.options.compaction_seconds, self._compact), name="compaction"),
            asyncio.create_task(self._every(self.options.credential_cleanup_seconds, self._forget_credentials),
                                name="credential-cleanup")]
        log.info("API server listening on %s, REST on %s (%s store)", self.address, self.rest_address,
                 self.store.name)

    async def _open_store(self, advertised: str, joined: clusterbootstrap.Joined | None) -> Store:
        """The datastore: --datastore's, else the embedded etcd's if this server runs a member, else SQLite."""
        opts = self.options
        if not (opts.cluster_init or (opts.join and not opts.datastore)):
            return await open_store(opts.datastore or f"sqlite://{opts.data_dir / 'state.db'}")
        self.etcd = etcdmember.EtcdMember(opts.data_dir, address=advertised or "127.0.0.1",
                                          client_port=opts.etcd_client_port, peer_port=opts.etcd_peer_port)
        join_urls = None
        if opts.join and not self.etcd.has_data:
            # A server that joined but died before its member started asks again (its files are there).
            join_urls = (joined or await clusterbootstrap.fetch(opts.join, opts.server_token)).etcd_client_urls
        await self.etcd.start(join_urls=join_urls)
        local = f"etcd://{etcdmember.endpoint(self.etcd.client_url)}"
        store = await open_store(local, etcd_tls=self.etcd.client_tls())
        others = [etcdmember.endpoint(url) for m in await store.members() for url in m.client_urls
                  if url != self.etcd.client_url]
        if not others:
            return store
        await store.close()   # over every member, its own first: a store that outlives its member's restarts
        return await open_store(f"{local},{','.join(others)}", etcd_tls=self.etcd.client_tls())

    @property
    def rest_address(self) -> str:
        """host:port of the Kubernetes REST API (kubectl's server), as a local client dials it."""
        host = _host_port(self.options.rest_listen)[0] if self.options.rest_listen else ""
        if host in ("", "0.0.0.0", "::"):
            host = self.address.rpartition(":")[0]
        return f"{host}:{self.rest.port}"

    async def _start_rest(self) -> None:
        """The Kubernetes REST façade over the same services, authenticators and authorization."""
        host, port = _host_port(self.options.listen)
        if self.options.rest_listen:
            host, port = _host_port(self.options.rest_listen)
        elif port:
            port = self.port + REST_PORT_OFFSET
        self.rest = RestServer(services=self.services, pod_streams=self.pod_streams, proxy_rules=self.proxy_rules,
                               authenticate=self.authenticator.authenticate,
                               authorize_url=self.authorizer.authorize_url, review=self._review,
                               create_token=self._create_token, rules=self._rules)
        tls_dir = self.options.data_dir / "tls"
        files = {"cert_file": tls_dir / "server.crt", "key_file": tls_dir / "server.key"}
        try:
            await self.rest.start(host=host, port=port, **files)
        except OSError as e:
            if self.options.rest_listen:
                raise
            # The default (gRPC port + 1) is taken: serve anyway; DATA/kubeconfig.yaml names the port.
            log.warning("REST API: port %d: %s; serving on a free port (--rest-listen sets one)", port, e)
            await self.rest.start(host=host, port=0, **files)

    def _build_registries(self) -> None:
        self.feed = StoreFeed(self.store, bookmark_seconds=self.options.bookmark_seconds)
        for kind in KINDS.values():
            self.caches[kind.name] = WatchCache(self.feed, kind, history=self.options.watch_history)
            metrics.track_cache(self.caches[kind.name], kind.plural)
        namespaces = Registry(self.store, KINDS["Namespace"], cache=self.caches["Namespace"])
        lifecycle = admission.NamespaceLifecycle(namespaces, self.caches["Namespace"])
        low, high = (int(p) for p in self.options.node_port_range.split("-"))
        self.service_allocation = admission.ServiceAllocation(
            allocator.ip_allocator(self.store, self.options.service_cidr),
            allocator.port_allocator(self.store, range(low, high + 1)), service_cidr=self.options.service_cidr)
        classes = Registry(self.store, KINDS["PriorityClass"], cache=self.caches["PriorityClass"])
        self.node_credentials = nodecredentials.NodeCredentials(
            self.caches["NodeCredentialRequest"], self.caches["Lease"],
            ttl_seconds=self.options.node_credential_seconds)
        node_restriction = NodeRestriction()
        self.authorizer = Authorizer(self.caches)
        escalation = RBACEscalation(self.authorizer.rbac)
        protection = admission.StorageObjectInUseProtection()
        limit_ranger = quotas.LimitRanger(self.caches["LimitRange"])
        plugins = {"Service": [lifecycle, self.service_allocation],
                   "Pod": [node_restriction, lifecycle, admission.ServiceAccountAdmission(self.caches["ServiceAccount"]),
                           admission.PriorityAdmission(classes, self.caches["PriorityClass"]), limit_ranger],
                   "Node": [node_restriction],
                   "NodeCredentialRequest": [nodecredentials.CredentialIssuer(self.node_credentials)],
                   "Role": [lifecycle, escalation], "RoleBinding": [lifecycle, escalation],
                   "ClusterRole": [escalation], "ClusterRoleBinding": [escalation],
                   "PersistentVolumeClaim": [lifecycle, protection, limit_ranger], "PersistentVolume": [protection]}
        resource_quotas = Registry(self.store, KINDS["ResourceQuota"], cache=self.caches["ResourceQuota"])
        # Last on every namespaced kind: quotas count the object as the other plugins leave it.
        quota = quotas.ResourceQuotaAdmission(resource_quotas, self.caches["ResourceQuota"])
        for kind in KINDS.values():
            if kind.name == "Namespace":
                registry = namespaces
            elif kind.name == "PriorityClass":
                registry = classes
            else:
                chain = plugins.get(kind.name, [lifecycle] if kind.namespaced else [])
                registry = Registry(self.store, kind, admission=chain + [quota] if kind.namespaced else chain,
                                    ttl_seconds=EVENT_TTL_SECONDS if kind.name == "Event" else 0,
                                cache=self.caches[kind.name])
            self.registries[kind.name] = registry

    async def _ensure_system_objects(self) -> None:
        """The namespaces, priority classes and RBAC defaults every cluster has, made when missing; the
        default ClusterRoles reconciled with this version's (authz/reconcile.py)."""
        namespaces, classes = self.registries["Namespace"], self.registries["PriorityClass"]
        wanted = [(namespaces, namespaces.kind.new(metadata={"name": name})) for name in SYSTEM_NAMESPACES]
        wanted += [(classes, classes.kind.new(metadata={"name": name}, value=value,
                                              description="Used for system critical pods."))
                   for name, value in SYSTEM_PRIORITY_CLASSES.items()]
        wanted += [(self.registries[obj.DESCRIPTOR.name], obj) for obj in policy.objects()]
        for registry, obj in wanted:
            try:
                await registry.create(obj)
            except errors.ApiError as e:
                if e.code != grpc.StatusCode.ALREADY_EXISTS:
                    raise
                if obj.DESCRIPTOR.name == "ClusterRole":   # an older version's: the rights added since
                    await reconcile.reconcile(registry, obj)

    def _build_grpc(self) -> grpc.aio.Server:
        authenticators = [self.credentials.tokens, self.node_credentials,
                          auth.ServiceAccountTokens(self.caches["Secret"], self.caches["ServiceAccount"]),
                          signedtokens.SignedTokens(self.credentials.signing_key, self.caches["ServiceAccount"])]
        self.authenticator = auth.AuthInterceptor(authenticators)
        server = grpc.aio.server(interceptors=[self.authenticator, UndecodableRequests()], options=_GRPC_OPTIONS)
        names = []
        self.agents = Agents(self.credentials.agent_client_cert)
        self.pod_streams = pod_streams = PodStreams(self.registries["Pod"], self.registries["Node"], self.agents)
        self.proxy_rules = proxy_rules = ProxyRules(self.registries["Pod"], self.caches["Node"], self.agents)
        for kind in KINDS.values():
            evictions = Evictions(self.registries["Pod"], self.registries["PodDisruptionBudget"],
                                  self.caches["PodDisruptionBudget"]) if kind.name == "Pod" else None
            service = self.services[kind.name] = KindService(kind, self.registries[kind.name], self.caches[kind.name],
                                                             self.authorizer, evictions=evictions)
            server.add_generic_rpc_handlers((generic_handler(service, pod_streams=pod_streams,
                                                             proxy_rules=proxy_rules),))
            names.append(kind.service)
        server.add_generic_rpc_handlers((self._cluster_handler(),))
        health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
        names += ["coxswain.v1.Cluster", health.SERVICE_NAME, reflection.SERVICE_NAME]
        reflection.enable_server_reflection(names, server)
        return server

    def _cluster_handler(self) -> grpc.GenericRpcHandler:
        async def version(request, context):
            user = auth.current_user.get()
            return cluster_pb2.VersionInfo(server_version=__version__, datastore=self.store.name,
                                           user=user.name, groups=list(user.groups))

        async def access_review(request: cluster_pb2.AccessReviewRequest, context):
            try:
                return self._review(request)
            except errors.ApiError as e:
                await context.abort(e.code, e.message)

        async def create_token(request: cluster_pb2.TokenRequest, context):
            try:
                return await self._create_token(request)
            except errors.ApiError as e:
                await context.abort(e.code, e.message)

        async def server_bootstrap(request, context):
            try:
                return await self._server_bootstrap(auth.bearer_token(context.invocation_metadata()))
            except errors.ApiError as e:
                await context.abort(e.code, e.message)

        def unary(fn, request_type, response_type):
            return grpc.unary_unary_rpc_method_handler(fn, request_deserializer=decoder(request_type),
                                                       response_serializer=response_type.SerializeToString)
        return grpc.method_handlers_generic_handler("coxswain.v1.Cluster", {
            "Version": unary(version, cluster_pb2.VersionRequest, cluster_pb2.VersionInfo),
            "AccessReview": unary(access_review, cluster_pb2.AccessReviewRequest, cluster_pb2.AccessReviewResponse),
            "CreateToken": unary(create_token, cluster_pb2.TokenRequest, cluster_pb2.TokenResponse),
            "ServerBootstrap": unary(server_bootstrap, cluster_pb2.ServerBootstrapRequest,
                                     cluster_pb2.ServerBootstrapResponse)})

    async def _server_bootstrap(self, presented: str | None) -> cluster_pb2.ServerBootstrapResponse:
        """The sealed bootstrap data, to a caller presenting the server token's secret (anonymous otherwise:
        auth.py lets this one call through unauthenticated, as it needs no user, only that secret)."""
        if not clusterbootstrap.secret_matches(self.server_token, presented):
            raise errors.ApiError(grpc.StatusCode.UNAUTHENTICATED, "not this cluster's server token")
        if self._raw_store.name != "etcd":
            raise errors.ApiError(grpc.StatusCode.FAILED_PRECONDITION,
                                  "this server keeps its state in a SQLite file of its own: no server can join it "
                                  "(start it with --cluster-init or --datastore etcd://...)")
        try:
            current = await self._raw_store.get(clusterbootstrap.BOOTSTRAP_KEY)
            urls = [url for m in await self._raw_store.members() for url in m.client_urls] if self.etcd else []
        except StoreError as e:
            raise errors.ApiError(grpc.StatusCode.UNAVAILABLE, f"the datastore: {e}") from None
        if current is None:
            raise errors.ApiError(grpc.StatusCode.FAILED_PRECONDITION,
                                  "this server has published no bootstrap data (its datastore holds another's)")
        return cluster_pb2.ServerBootstrapResponse(sealed=current.value, etcd_client_urls=urls)

    def _review(self, request: cluster_pb2.AccessReviewRequest) -> cluster_pb2.AccessReviewResponse:
        """An access review for the calling user (gRPC AccessReview, REST SelfSubjectAccessReview)."""
        return accessreview.review(request, caller=auth.current_user.get(), authorizer=self.authorizer)

    def _rules(self, namespace: str):
        """The calling user's rules in `namespace` (REST SelfSubjectRulesReview)."""
        return accessreview.rules(namespace, caller=auth.current_user.get(), authorizer=self.authorizer)

    async def _create_token(self, request: cluster_pb2.TokenRequest) -> cluster_pb2.TokenResponse:
        """serviceaccounts/token: as `create` on the subresource, for an account that exists."""
        namespace = request.namespace or "default"
        seconds = request.expiration_seconds or signedtokens.DEFAULT_SERVICE_ACCOUNT_SECONDS
        if not 600 <= seconds <= 48 * 3600:
            raise errors.invalid(f"expirationSeconds: must be between 600 and {48 * 3600}, not {seconds}")
        user = auth.current_user.get()
        decision = self.authorizer.authorize(Attributes(user, "token", "ServiceAccount", namespace,
                                                        request.service_account))
        if decision.verdict is not Verdict.ALLOW:
            raise errors.forbidden(f'User "{user.name}" cannot create resource "serviceaccounts/token" in the '
                                   f'namespace "{namespace}": {decision.reason}')
        account = await self.registries["ServiceAccount"].get(namespace, request.service_account)
        token, expires = signedtokens.service_account_token(self.credentials.signing_key, account,
                                                            seconds=seconds)
        return cluster_pb2.TokenResponse(token=token, expiration_timestamp={"seconds": expires})

    async def wait(self) -> None:
        await self._grpc.wait_for_termination()

    async def _every(self, seconds: float, job) -> None:
        """Run job(since) every `seconds`; `since` is the revision the feed had reached last time."""
        since = 0
        while True:
            await asyncio.sleep(seconds)
            reached = self.feed.revision
            try:
                await job(since)
            except Exception as e:  # a store outage: try again next round
                log.warning("%s: %s", job.__name__, e)
            since = reached

    async def _repair_allocations(self, since: int) -> None:
        """Free ClusterIPs and NodePorts leaked by a crash between allocation and write."""
        live = {c.obj.metadata.uid for c in self.caches["Service"].list()}
        freed = await self.service_allocation.repair(live, older_than=since)
        if freed:
            log.info("freed %d leaked service allocations", freed)

    async def _forget_credentials(self, _since: int) -> None:
        """Delete node credential requests whose tokens can no longer be used."""
        registry = self.registries["NodeCredentialRequest"]
        for name in self.node_credentials.stale(grace_seconds=self.options.superseded_credential_seconds):
            try:
                await registry.delete("", name)
            except errors.ApiError as e:
                if e.code != grpc.StatusCode.NOT_FOUND:
                    raise

    async def _compact(self, since: int) -> None:
        """Forget store history older than one interval, as kube-apiserver compacts etcd.

        Several servers over one etcd may all do it; compacting where another
        already has is no harm.
        """
        if since:
            try:
                await self.store.compact(since)
            except CompactedError:
                pass

    async def stop(self, grace: float = 2.0) -> None:
        """Stop serving and close the store (and the embedded etcd member); once, however often called."""
        if self._stopped:
            return
        self._stopped = True
        for task in self._housekeeping:
            task.cancel()
        if self.kubernetes_service is not None:
            await self.kubernetes_service.stop()   # takes this server's address out while the store is up
        if self.rest:
            await self.rest.stop()
        if self._grpc:
            await self._grpc.stop(grace)
            await self.agents.close()
        if self.feed:
            await self.feed.stop()
        if self.store or self._raw_store:
            await (self.store or self._raw_store).close()
        if self.etcd:
            await self.etcd.stop()
