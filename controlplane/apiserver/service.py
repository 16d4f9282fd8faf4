"""Each kind's gRPC service, built from its descriptor rather than written out.

All kinds behave alike, so one set of handlers serves them all: this module
binds the generated service names (coxswain.v1.<Kind>Service) to a kind's
registry and watch cache. List and Watch answer with pre-encoded bytes from the
cache (see wire.py); the other methods return messages.
"""
import base64
import json
import logging

import grpc

from controlplane.api import selectors
from controlplane.api.kinds import Kind
from controlplane.api.v1 import core_pb2, meta_pb2, node_agent_pb2, policy_pb2
from controlplane.apiserver import auth, errors, wire
from controlplane.apiserver.authz import Attributes, Authorizer, Verdict
from controlplane.apiserver.decoding import decoder
from controlplane.apiserver.eviction import Evictions
from controlplane.apiserver.podstreams import PodStreams
from controlplane.apiserver.proxyrules import ProxyRules
from controlplane.apiserver.registry import Registry, decode
from controlplane.apiserver.watchcache import WatchCache, WatchClosed
from controlplane.metrics import apiserver as metrics
from controlplane.store import CompactedError, FutureRevisionError, StoreError

log = logging.getLogger(__name__)


def _request_namespace(kind: Kind, request) -> str:
    """The namespace a request acts in; "" for cluster-scoped kinds, all namespaces, or a stream."""
    if not kind.namespaced:
        return ""
    if hasattr(request, "metadata"):
        return request.metadata.namespace or "default"
    return getattr(request, "namespace", "")


def _request_name(request) -> str:
    """The one object a request names; "" for a stream, a generateName create or a list of many."""
    if hasattr(request, "metadata"):
        return request.metadata.name
    if hasattr(request, "field_selector"):     # a list or watch of one object by name
        terms = [t.strip().replace("==", "=") for t in request.field_selector.split(",") if t.strip()]
        return next((t.split("=", 1)[1] for t in terms if t.startswith("metadata.name=")), "")
    return getattr(request, "name", "")


def _namespace(kind: Kind, namespace: str) -> str:
    if not kind.namespaced and namespace:
        raise errors.invalid(f"namespace: {kind.name} is cluster-scoped, namespace must be empty")
    return namespace


def _filter(kind: Kind, request):
    """A predicate for the request's namespace and selectors, or INVALID_ARGUMENT."""
    try:
        labels = selectors.parse_label_selector(request.label_selector)
        fields = selectors.parse_field_selector(request.field_selector, kind.name)
    except ValueError as e:
        raise errors.invalid(str(e)) from None
    namespace = request.namespace
    if not namespace and labels.empty and fields.empty:
        return None

    def match(obj) -> bool:
        return ((not namespace or obj.metadata.namespace == namespace)
                and labels.matches(obj.metadata.labels) and fields.matches(obj))
    return match


def _encode_continue(revision: int, last_key: str) -> str:
    raw = json.dumps({"rv": revision, "start": last_key}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_continue(token: str) -> tuple[int, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        return int(data["rv"]), str(data["start"])
    except (ValueError, KeyError, TypeError):
        raise errors.invalid("continue: not a continue token this server issued") from None


def _dry_run(context) -> bool:
    """The `dry-run: All` request header (Kubernetes' dryRun=All): check everything, write nothing."""
    for key, value in context.invocation_metadata() or ():
        if key == "dry-run":
            if value != "All":
                raise errors.invalid(f'dry-run: must be "All", not "{value}"')
            return True
    return False


def _parse_rv(value: str) -> int:
    try:
        rv = int(value or 0)
    except ValueError:
        raise errors.invalid(f'resourceVersion: "{value}" is not a resource version') from None
    if rv < 0:
        raise errors.invalid(f'resourceVersion: "{value}" is not a resource version')
    return rv


class KindService:
    """The handlers of one kind."""

    def __init__(self, kind: Kind, registry: Registry, cache: WatchCache, authorizer: Authorizer, *,
                 evictions: Evictions | None = None):
        self.kind = kind
        self.registry = registry
        self.cache = cache
        self.authorizer = authorizer
        self.evictions = evictions   # pods only: the pods/eviction subresource

    def authorize(self, verb: str, request) -> None:
        """PERMISSION_DENIED unless the caller may do `verb` with this request."""
        user = auth.current_user.get()
        namespace = _request_namespace(self.kind, request)
        decision = self.authorizer.authorize(Attributes(user, verb, self.kind.name, namespace,
                                                        _request_name(request)))
        if decision.verdict is not Verdict.ALLOW:
            where = f' in the namespace "{namespace}"' if namespace else ""
            raise errors.forbidden(f'User "{user.name}" cannot {verb} resource "{self.kind.plural}"{where}: '
                                   f'{decision.reason}')

    async def create(self, request, context):
        return await self.registry.create(request, dry_run=_dry_run(context))

    async def get(self, request: meta_pb2.GetRequest, context):
        return await self.registry.get(_namespace(self.kind, request.namespace), request.name)

    async def update(self, request, context):
        return await self.registry.update(request, dry_run=_dry_run(context))

    async def update_status(self, request, context):
        return await self.registry.update(request, status_only=True, dry_run=_dry_run(context))

    async def delete(self, request: meta_pb2.DeleteRequest, context):
        grace = request.grace_period_seconds if request.HasField("grace_period_seconds") else None
        return await self.registry.delete(
            _namespace(self.kind, request.namespace), request.name, grace_period_seconds=grace,
            propagation_policy=request.propagation_policy,
            precondition_uid=request.preconditions.uid,
            precondition_resource_version=request.preconditions.resource_version)

    async def bind(self, request: core_pb2.Binding, context):
        if request.target.kind not in ("", "Node"):
            raise errors.invalid(f'target.kind: must be "Node", not "{request.target.kind}"')
        if not request.target.name:
            raise errors.invalid("target.name: required")
        return await self.registry.bind(request.metadata.namespace or "default",
                                        request.metadata.name, request.target.name)

    async def evict(self, request: policy_pb2.Eviction, context):
        return await self.evictions.evict(request)

    async def list(self, request: meta_pb2.ListRequest, context) -> bytes:
        _namespace(self.kind, request.namespace)
        match = _filter(self.kind, request)
        if request.limit > 0 or request.continue_token or request.resource_version not in ("", "0"):
            return await self._list_from_store(request, match)
        if request.resource_version == "":
            # A consistent read: the cache must have caught up with the store.
            revision = await self.registry.store.current_revision()
            if not await self.cache.feed.wait_until_fresh(revision):
                return await self._list_from_store(request, match)
        items = self.cache.list(namespace=request.namespace, match=match or (lambda _o: True))
        return wire.list_response(self.kind, [c.data for c in items], resource_version=self.cache.revision)

    async def _list_from_store(self, request: meta_pb2.ListRequest, match) -> bytes:
        """A paged or point-in-time list, read from the store as Kubernetes does."""
        if request.continue_token:
            revision, start_after = _decode_continue(request.continue_token)
        else:
            revision, start_after = _parse_rv(request.resource_version), ""
        prefix = self.kind.key_prefix(request.namespace)
        items: list[bytes] = []
        limit = request.limit
        while True:
            try:
                page = await self.registry.store.range(prefix, revision=revision, start_after=start_after,
                                                       limit=limit - len(items) if limit else 0)
            except CompactedError as e:
                raise errors.gone(f"The provided continue parameter is too old: {e}") from None
            except FutureRevisionError:
                field = "continue" if request.continue_token else "resourceVersion"
                current = await self.registry.store.current_revision()
                raise errors.invalid(f"{field}: revision {revision} is beyond the current {current}") from None
            revision = page.revision
            for kv in page.kvs:
                obj = decode(self.kind, kv)
                if match is None or match(obj):
                    items.append(obj.SerializeToString())
            if page.kvs:
                start_after = page.kvs[-1].key
            if not page.more or (limit and len(items) >= limit):
                break
        token = _encode_continue(revision, start_after) if page.more else ""
        remaining = page.count - len(page.kvs) if page.more and match is None else None
        return wire.list_response(self.kind, items, resource_version=revision,
                                  continue_token=token, remaining=remaining)

    async def watch(self, request: meta_pb2.WatchRequest, context):
        _namespace(self.kind, request.namespace)
        match = _filter(self.kind, request)
        rv = _parse_rv(request.resource_version)
        if rv > self.cache.revision:
            # Fail fast beyond the store's revision; give a cache behind it a moment (the feed's timeout).
            current = await self.registry.store.current_revision()
            if rv > current or not await self.cache.feed.wait_until_fresh(rv):
                raise errors.too_large_resource_version(rv, current)
        try:
            watcher = self.cache.watch(resource_version=rv, match=match or (lambda _o: True),
                                       bookmarks=request.allow_watch_bookmarks)
        except CompactedError as e:
            raise errors.gone(f"too old resource version: {rv} ({e.compacted})") from None
        try:
            async for data in watcher.events():
                yield data
        except WatchClosed as e:
            raise errors.gone(f"watch closed by the server: {e}; relist") from None


async def _checked(requests):
    """A client stream whose undecodable messages raise their refusal (a single request's is
    answered by decoding.UndecodableRequests before the handler runs)."""
    async for request in requests:
        if isinstance(request, errors.ApiError):
            raise request
        yield request


def _status(service: KindService, verb: str, e: Exception) -> errors.ApiError:
    """The ApiError for anything a handler raised: the store's own errors in words, the rest INTERNAL."""
    if isinstance(e, errors.ApiError):
        return e
    if isinstance(e, StoreError):
        return errors.from_store(e)
    # A bug: one line in the log (no traceback), words for the caller, never UNKNOWN.
    log.error("%s %s failed: %s: %s", verb, service.kind.plural, type(e).__name__, e)
    return errors.ApiError(grpc.StatusCode.INTERNAL, f"internal error while serving {verb} {service.kind.plural}")


def _unary(service: KindService, verb: str, fn, request_class, serializer):
    async def handler(request, context):
        served = metrics.Request(verb, service.kind.plural)
        code = None
        try:
            service.authorize(verb, request)
            return await fn(request, context)
        except grpc.aio.AbortError:
            code = context.code()
            raise
        except Exception as e:
            error = _status(service, verb, e)
            code = error.code
            await context.abort(error.code, error.message)
        finally:
            served.done_grpc(code)
    return grpc.unary_unary_rpc_method_handler(handler, request_deserializer=decoder(request_class),
                                               response_serializer=serializer)


def _streaming(service: KindService, verb: str, fn):
    async def handler(request_or_requests, context):
        served = metrics.Request(verb, service.kind.plural)
        code = None
        try:
            if hasattr(request_or_requests, "__aiter__"):
                request_or_requests = _checked(request_or_requests)
            service.authorize(verb, request_or_requests)
            async for item in fn(request_or_requests, context):
                yield item
        except grpc.aio.AbortError:
            code = context.code()
            raise
        except Exception as e:
            error = _status(service, verb, e)
            code = error.code
            await context.abort(error.code, error.message)
        finally:
            served.done_grpc(code)
    return handler


def _serialize(message) -> bytes:
    return message.SerializeToString()


def _stream(service: KindService, verb: str, fn, request_class, serializer=None):
    """A server-streaming method; serializer None means fn yields encoded bytes."""
    return grpc.unary_stream_rpc_method_handler(_streaming(service, verb, fn),
                                                request_deserializer=decoder(request_class),
                                                response_serializer=serializer)


def _bidi(service: KindService, verb: str, fn, request_class):
    return grpc.stream_stream_rpc_method_handler(_streaming(service, verb, fn),
                                                 request_deserializer=decoder(request_class),
                                                 response_serializer=_serialize)


def generic_handler(service: KindService, *, pod_streams: PodStreams | None = None,
                    proxy_rules: ProxyRules | None = None) -> grpc.GenericRpcHandler:
    """The grpc handler for coxswain.v1.<Kind>Service, methods as the descriptor lists them."""
    kind = service.kind
    serialize = kind.message.SerializeToString
    methods = {
        "Create": _unary(service, "create", service.create, kind.message, serialize),
        "Get": _unary(service, "get", service.get, meta_pb2.GetRequest, serialize),
        "List": _unary(service, "list", service.list, meta_pb2.ListRequest, None),
        "Watch": _stream(service, "watch", service.watch, meta_pb2.WatchRequest),
        "Update": _unary(service, "update", service.update, kind.message, serialize),
        "Delete": _unary(service, "delete", service.delete, meta_pb2.DeleteRequest, serialize),
    }
    if kind.has_status:
        methods["UpdateStatus"] = _unary(service, "update_status", service.update_status,
                                         kind.message, serialize)
    if kind.name == "Pod":
        methods["Bind"] = _unary(service, "bind", service.bind, core_pb2.Binding, serialize)
        methods["Evict"] = _unary(service, "evict", service.evict, policy_pb2.Eviction, serialize)
        methods["Logs"] = _stream(service, "log", pod_streams.logs, node_agent_pb2.PodLogsRequest,
                                  _serialize)
        methods["Exec"] = _bidi(service, "exec", pod_streams.exec, node_agent_pb2.ExecInput)
        methods["ProxyRules"] = _unary(service, "proxyrules", proxy_rules.rules, node_agent_pb2.PodProxyRulesRequest,
                                       _serialize)
    return grpc.method_handlers_generic_handler(kind.service, methods)
