"""A typed async client for the API server (client-go's clientset, in small).

    client = Client(config)
    pod = await client.resource("Pod").create(pod)
    async for event in client.resource("Pod").watch(namespace="default"):
        print(event.type, event.object.metadata.name)

One `Resource` per kind, built from the kind registry, so every kind has the
same methods. gRPC errors come out as the exceptions in client.errors.
"""
from __future__ import annotations

import functools
import json
from typing import AsyncIterator

import grpc
from google.protobuf.message import Message

from controlplane.api import kinds
from controlplane.api.v1 import cluster_pb2, core_pb2, meta_pb2, node_agent_pb2, policy_pb2
from controlplane.client import errors, targets
from controlplane.client.config import ClientConfig

_CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", -1),   # lists of many objects are large
    ("grpc.max_send_message_length", 8 * 1024 * 1024),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
]
# Every API server's certificate names it (apiserver/kubernetesservice.py's in_cluster_names), so a client
# of several servers checks each against it, whichever address it reached.
SERVER_NAME = "kubernetes.default.svc"


def _read_retries() -> str:
    """gRPC service config for a client of several servers: reads cut off by their server's end go again.

    With pick-first over several servers, a call in flight when its server
    dies fails UNAVAILABLE while the next call reaches a live one. A Get or
    List changes nothing, so gRPC itself sends it again (as client-go retries
    a GET after a connection reset); writes are the caller's to retry, since
    one may have been applied before the connection broke.
    """
    reads = [{"service": kind.service, "method": method} for kind in kinds.KINDS.values()
             for method in ("Get", "List")]
    return json.dumps({"methodConfig": [{"name": reads, "retryPolicy": {
        "maxAttempts": 4, "initialBackoff": "0.2s", "maxBackoff": "2s", "backoffMultiplier": 2,
        "retryableStatusCodes": ["UNAVAILABLE"]}}]})


def _translate_errors(fn):
    @functools.wraps(fn)
    async def call(*args, **kwargs):
        try:
            return await fn(*args, **kwargs)
        except grpc.aio.AioRpcError as e:
            raise errors.from_rpc_error(e) from None
    return call


class Resource:
    """The calls of one kind."""

    def __init__(self, channel: grpc.aio.Channel, kind: kinds.Kind, *, timeout: float | None,
                 metadata: tuple):
        self.kind = kind
        self._timeout = timeout
        self._metadata = metadata
        base = f"/{kind.service}/"
        obj = kind.message

        def unary(method, request_type, response_type):
            return channel.unary_unary(base + method, request_serializer=request_type.SerializeToString,
                                       response_deserializer=response_type.FromString)
        self._create = unary("Create", obj, obj)
        self._get = unary("Get", meta_pb2.GetRequest, obj)
        self._list = unary("List", meta_pb2.ListRequest, kind.list_message)
        self._update = unary("Update", obj, obj)
        self._update_status = unary("UpdateStatus", obj, obj) if kind.has_status else None
        self._delete = unary("Delete", meta_pb2.DeleteRequest, obj)
        self._bind = unary("Bind", core_pb2.Binding, obj) if kind.name == "Pod" else None
        self._evict = unary("Evict", policy_pb2.Eviction, obj) if kind.name == "Pod" else None
        self._proxy_rules = unary("ProxyRules", node_agent_pb2.PodProxyRulesRequest,
                                  node_agent_pb2.PodProxyRules) if kind.name == "Pod" else None
        if kind.name == "Pod":
            self._logs = channel.unary_stream(
                base + "Logs", request_serializer=node_agent_pb2.PodLogsRequest.SerializeToString,
                response_deserializer=node_agent_pb2.LogChunk.FromString)
            self._exec = channel.stream_stream(
                base + "Exec", request_serializer=node_agent_pb2.ExecInput.SerializeToString,
                response_deserializer=node_agent_pb2.ExecOutput.FromString)
        self._watch = channel.unary_stream(base + "Watch",
                                           request_serializer=meta_pb2.WatchRequest.SerializeToString,
                                           response_deserializer=kind.watch_event.FromString)

    def use_metadata(self, metadata: tuple) -> None:
        self._metadata = metadata

    def _ns(self, namespace: str) -> str:
        return (namespace or "default") if self.kind.namespaced else ""

    def _call_metadata(self, dry_run: bool) -> tuple:
        return self._metadata + (("dry-run", "All"),) if dry_run else self._metadata

    @_translate_errors
    async def create(self, obj: Message, *, dry_run: bool = False) -> Message:
        """The stored object; with dry_run, the server checks everything and writes nothing."""
        return await self._create(obj, timeout=self._timeout, metadata=self._call_metadata(dry_run))

    @_translate_errors
    async def get(self, name: str, *, namespace: str = "") -> Message:
        return await self._get(meta_pb2.GetRequest(namespace=self._ns(namespace), name=name),
                               timeout=self._timeout, metadata=self._metadata)

    @_translate_errors
    async def list(self, *, namespace: str = "", label_selector: str = "", field_selector: str = "",
                   limit: int = 0, continue_token: str = "", resource_version: str = "") -> Message:
        """<Kind>List; namespace "" lists all namespaces."""
        return await self._list(meta_pb2.ListRequest(
            namespace=namespace, label_selector=label_selector, field_selector=field_selector,
            limit=limit, continue_token=continue_token, resource_version=resource_version),
            timeout=self._timeout, metadata=self._metadata)

    @_translate_errors
    async def update(self, obj: Message, *, dry_run: bool = False) -> Message:
        return await self._update(obj, timeout=self._timeout, metadata=self._call_metadata(dry_run))

    @_translate_errors
    async def update_status(self, obj: Message) -> Message:
        return await self._update_status(obj, timeout=self._timeout, metadata=self._metadata)

    @_translate_errors
    async def delete(self, name: str, *, namespace: str = "", grace_period_seconds: int | None = None,
                     propagation_policy: str = "", uid: str = "", resource_version: str = "") -> Message:
        """Returns the object as deleted, or as it is while a graceful or finalized deletion runs."""
        request = meta_pb2.DeleteRequest(
            namespace=self._ns(namespace), name=name, propagation_policy=propagation_policy,
            preconditions=meta_pb2.Preconditions(uid=uid, resource_version=resource_version))
        if grace_period_seconds is not None:
            request.grace_period_seconds = grace_period_seconds
        return await self._delete(request, timeout=self._timeout, metadata=self._metadata)

    @_translate_errors
    async def bind(self, name: str, node_name: str, *, namespace: str = "") -> Message:
        """Pods only: assign the pod to a node (the pods/binding subresource)."""
        binding = core_pb2.Binding(metadata={"name": name, "namespace": self._ns(namespace)},
                                   target={"kind": "Node", "name": node_name})
        return await self._bind(binding, timeout=self._timeout, metadata=self._metadata)

    @_translate_errors
    async def evict(self, name: str, *, namespace: str = "", grace_period_seconds: int | None = None,
                    uid: str = "") -> Message:
        """Pods only: delete the pod unless a PodDisruptionBudget forbids it now (errors.TooManyRequests)."""
        eviction = policy_pb2.Eviction(metadata={"name": name, "namespace": self._ns(namespace)})
        if grace_period_seconds is not None:
            eviction.delete_options.grace_period_seconds = grace_period_seconds
        eviction.delete_options.preconditions.uid = uid
        return await self._evict(eviction, timeout=self._timeout, metadata=self._metadata)

    @_translate_errors
    async def proxy_rules(self, name: str, *, namespace: str = "") -> Message:
        """Pods only: when each Node's proxy programmed the pod as a ready backend (pods/proxyrules)."""
        request = node_agent_pb2.PodProxyRulesRequest(namespace=self._ns(namespace), name=name)
        return await self._proxy_rules(request, timeout=self._timeout, metadata=self._metadata)

    async def logs(self, name: str, *, namespace: str = "", container: str = "", follow: bool = False,
                   tail_lines: int | None = None, previous: bool = False, timestamps: bool = False,
                   since_seconds: int | None = None) -> AsyncIterator[bytes]:
        """Pods only: a container's log, as chunks of bytes (follow: until the container ends)."""
        request = node_agent_pb2.PodLogsRequest(namespace=self._ns(namespace), name=name, container=container,
                                                follow=follow, previous=previous, timestamps=timestamps)
        if tail_lines is not None:
            request.tail_lines = tail_lines
        if since_seconds is not None:
            request.since_seconds = since_seconds
        call = self._logs(request, metadata=self._metadata)
        try:
            async for chunk in call:
                yield chunk.data
        except grpc.aio.AioRpcError as e:
            raise errors.from_rpc_error(e) from None
        finally:
            call.cancel()

    async def exec(self, name: str, command: list[str], *, namespace: str = "", container: str = "",
                   stdin: bool = False, tty: bool = False):
        """Pods only: start a command in a container; returns the open stream.

        Write ExecInput messages (stdin, stdin_closed, resize) to it and read
        ExecOutput frames; the last frame carries exit_code.
        """
        call = self._exec(metadata=self._metadata)
        start = node_agent_pb2.ExecStart(namespace=self._ns(namespace), pod=name, container=container,
                                         command=command, stdin=stdin, tty=tty)
        await call.write(node_agent_pb2.ExecInput(start=start))
        return call

    async def watch(self, *, namespace: str = "", label_selector: str = "", field_selector: str = "",
                    resource_version: str = "", bookmarks: bool = False) -> AsyncIterator[Message]:
        """<Kind>WatchEvent messages (type, object) until the stream ends.

        resource_version "" starts with an ADDED event per current object.
        Raises errors.Gone when the revision is too old: relist, then watch again.
        """
        call = self._watch(meta_pb2.WatchRequest(
            namespace=namespace, label_selector=label_selector, field_selector=field_selector,
            resource_version=resource_version, allow_watch_bookmarks=bookmarks), metadata=self._metadata)
        try:
            async for event in call:
                yield event
        except grpc.aio.AioRpcError as e:
            raise errors.from_rpc_error(e) from None
        finally:
            call.cancel()


class Client:
    """A connection to the API server and a Resource per kind."""

    def __init__(self, config: ClientConfig, *, timeout: float | None = 30.0):
        tls = grpc.ssl_channel_credentials(root_certificates=config.ca.encode())
        self.config = config
        servers = targets.split(config.server)
        options = _CHANNEL_OPTIONS + ([("grpc.ssl_target_name_override", SERVER_NAME),
                                       ("grpc.service_config", _read_retries())] if len(servers) > 1 else [])
        self.channel = grpc.aio.secure_channel(targets.grpc_target(servers), tls, options=options)
        # The token rides in each call's metadata: grpc's call-credentials plugins
        # run in a Python thread per call, which costs more than the call itself.
        self._metadata = (("authorization", f"Bearer {config.token}"),)
        self._resources = {name: Resource(self.channel, kind, timeout=timeout, metadata=self._metadata)
                           for name, kind in kinds.KINDS.items()}
        def cluster(method, request_type, response_type):
            return self.channel.unary_unary(f"/coxswain.v1.Cluster/{method}",
                                            request_serializer=request_type.SerializeToString,
                                            response_deserializer=response_type.FromString)
        self._version = cluster("Version", cluster_pb2.VersionRequest, cluster_pb2.VersionInfo)
        self._access_review = cluster("AccessReview", cluster_pb2.AccessReviewRequest,
                                      cluster_pb2.AccessReviewResponse)
        self._create_token = cluster("CreateToken", cluster_pb2.TokenRequest, cluster_pb2.TokenResponse)
        self._server_bootstrap = cluster("ServerBootstrap", cluster_pb2.ServerBootstrapRequest,
                                         cluster_pb2.ServerBootstrapResponse)

    def use_credential(self, config: ClientConfig) -> None:
        """Use `config`'s token (a renewed credential, same server) from the next call on.

        Calls under way, watches included, keep the token they started with."""
        self.config = config
        self._metadata = (("authorization", f"Bearer {config.token}"),)
        for resource in self._resources.values():
            resource.use_metadata(self._metadata)

    def resource(self, kind: str | kinds.Kind) -> Resource:
        """The Resource of a kind, by Kind or by any name the CLI accepts (Pod, pods, po)."""
        if isinstance(kind, kinds.Kind):
            return self._resources[kind.name]
        found = self._resources.get(kind)
        return found if found is not None else self._resources[kinds.resolve(kind).name]

    @_translate_errors
    async def version(self) -> cluster_pb2.VersionInfo:
        return await self._version(cluster_pb2.VersionRequest(), timeout=10, metadata=self._metadata)

    @_translate_errors
    async def access_review(self, request: cluster_pb2.AccessReviewRequest) -> cluster_pb2.AccessReviewResponse:
        return await self._access_review(request, timeout=10, metadata=self._metadata)

    @_translate_errors
    async def create_token(self, request: cluster_pb2.TokenRequest) -> cluster_pb2.TokenResponse:
        return await self._create_token(request, timeout=10, metadata=self._metadata)

    @_translate_errors
    async def server_bootstrap(self) -> cluster_pb2.ServerBootstrapResponse:
        """A joining server's bootstrap data; the config's token must be the server token's secret."""
        return await self._server_bootstrap(cluster_pb2.ServerBootstrapRequest(), timeout=30,
                                            metadata=self._metadata)

    async def close(self) -> None:
        await self.channel.close()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()
