"""REST requests carried out through the gRPC services' own handlers: no HTTP here.

Each route becomes a call of the kind's `KindService` (apiserver/service.py)
with the request message gRPC would have carried, after one authorization
check through `authorize` below, the same check the gRPC handlers make. So
registry, admission, validation, watch cache and authorization are the
gRPC path's, and the REST façade adds only the translation: query parameters
to request messages, JSON to messages and back, patches, Tables.

A handler returns a Reply (code and JSON body), a stream of watch events
(dicts), or a stream of log bytes; server.py writes them out.
"""
import asyncio
import dataclasses
from typing import AsyncIterator, Awaitable, Callable, Mapping

import grpc
import yaml

from controlplane.api import managedfields, patch
from controlplane.api.errors import FieldError, InvalidError
from controlplane.api.v1 import cluster_pb2, core_pb2, meta_pb2, node_agent_pb2, policy_pb2, rbac_pb2
from controlplane.apiserver import errors
from controlplane.apiserver.podstreams import PodStreams
from controlplane.apiserver.proxyrules import ProxyRules
from controlplane.apiserver.rest import channels, codec, names, proxyrules, reviews, status, tables
from controlplane.apiserver.rest.paths import Route
from controlplane.apiserver.service import KindService

_PATCH_RETRIES = 5


def authorize(service: KindService, verb: str, request) -> None:
    """The one place REST authorizes a request: the check every gRPC handler makes first.

    `verb` is the gRPC handlers' (get, list, watch, create, update,
    update_status, delete, bind, log, exec, proxyrules); `request` is the message the
    gRPC method would have received.
    """
    service.authorize(verb, request)


class ApplyConflict(Exception):
    """A server-side apply would change fields other managers applied: 409 naming each (force takes them)."""

    def __init__(self, taken: dict[str, list[tuple]]):
        self.causes = [FieldError(managedfields.path_text(p), f'conflict with "{manager}"')
                       for manager, paths in taken.items() for p in paths]
        count = len(self.causes)
        if count == 1:
            text = f"{self.causes[0].reason}: {self.causes[0].path}"
        else:
            text = "\n".join(f'conflicts with "{manager}":' + "".join(
                f"\n- {managedfields.path_text(p)}" for p in paths) for manager, paths in taken.items())
        super().__init__(f"Apply failed with {count} conflict{'s' if count > 1 else ''}: {text}")


@dataclasses.dataclass
class Reply:
    code: int
    body: dict


@dataclasses.dataclass
class ExecSession:
    """An authorized exec: `run(inputs)` is PodService/Exec's handler, yielding ExecOutputs."""
    start: node_agent_pb2.ExecStart
    run: Callable[[AsyncIterator], AsyncIterator]


@dataclasses.dataclass
class Stream:
    """A streamed answer: `items` yields dicts (watch events, one JSON line each) or bytes (logs)."""
    items: AsyncIterator
    content_type: str


class _Context:
    """What the service methods read from a gRPC context: only the dry-run header."""

    def __init__(self, dry_run: str):
        self._metadata = (("dry-run", dry_run),) if dry_run else ()

    def invocation_metadata(self):
        return self._metadata


def _int(query: Mapping[str, str], name: str) -> int | None:
    value = query.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise errors.invalid(f'{name}: "{value}" is not an integer') from None


class Handlers:
    def __init__(self, services: Mapping[str, KindService], pod_streams: PodStreams | None, *,
                 review: Callable[[cluster_pb2.AccessReviewRequest], cluster_pb2.AccessReviewResponse],
                 create_token: Callable[[cluster_pb2.TokenRequest], Awaitable[cluster_pb2.TokenResponse]],
                 rules: Callable[[str], tuple[list[rbac_pb2.PolicyRule], bool]],
                 proxy_rules: ProxyRules):
        """`review`, `create_token` and `rules` (the caller's rules in a namespace, and whether they are
        incomplete) are the API server's own (its gRPC Cluster service's, accessreview.py); `proxy_rules`
        is PodService/ProxyRules' (pods/proxyrules)."""
        self._services = services
        self._pod_streams = pod_streams
        self._proxy_rules = proxy_rules
        self._review = review
        self._create_token = create_token
        self._rules = rules

    async def access_review(self, *, body: bytes, content_type: str) -> Reply:
        """POST selfsubjectaccessreviews: the caller's own question, answered by the one authorizer."""
        def answer(data):
            request = reviews.access_review_request(data)
            return reviews.access_review_json(data, self._review(request) if request else None)
        return self._review_reply(body, content_type, answer)

    async def rules_review(self, *, body: bytes, content_type: str) -> Reply:
        """POST selfsubjectrulesreviews (`kubectl auth can-i --list`): the caller's rules in a namespace."""
        def answer(data):
            rules, incomplete = self._rules(reviews.rules_review_namespace(data))
            return reviews.rules_review_json(data, rules, incomplete=incomplete)
        return self._review_reply(body, content_type, answer)

    @staticmethod
    def _review_reply(body: bytes, content_type: str, answer: Callable[[object], dict]) -> Reply:
        try:
            return Reply(201, answer(codec.read_body(body, content_type)))
        except errors.ApiError as e:
            return Reply(*status.from_api_error(e.code, e.message))
        except InvalidError as e:
            return Reply(422, status.status(422, "Invalid", str(e), causes=e.errors))
        except codec.BodyError as e:
            return Reply(400, status.status(400, "BadRequest", str(e)))

    def exec_session(self, route: Route, query) -> ExecSession | Reply:
        """Check and authorize an exec or attach before the WebSocket upgrade, so refusals are plain HTTP
        errors."""
        attach = route.subresource == names.ATTACH
        try:
            start = (channels.attach_start if attach else channels.exec_start)(
                query, namespace=route.namespace or "default", pod=route.name)
            authorize(self._services[route.kind.name], "attach" if attach else "exec", start)
        except channels.ExecRequestError as e:
            return Reply(400, status.status(400, "BadRequest", str(e), kind=route.kind, name=route.name))
        except errors.ApiError as e:
            return Reply(*status.from_api_error(e.code, e.message, kind=route.kind, name=route.name))
        run = self._pod_streams.attach if attach else self._pod_streams.exec
        return ExecSession(start, lambda inputs: run(inputs, None))

    def port_forward_start(self, route: Route) -> node_agent_pb2.PortForwardStart | Reply:
        """Authorize a port-forward before the WebSocket upgrade; the pod it names (each connection sets a port)."""
        try:
            authorize(self._services[route.kind.name], "portforward",
                      meta_pb2.GetRequest(namespace=route.namespace or "default", name=route.name))
        except errors.ApiError as e:
            return Reply(*status.from_api_error(e.code, e.message, kind=route.kind, name=route.name))
        return node_agent_pb2.PortForwardStart(namespace=route.namespace or "default", pod=route.name)

    def port_forward(self, requests: AsyncIterator[node_agent_pb2.PortForwardInput]) -> AsyncIterator:
        """One forwarded connection, relayed to the pod's agent (already authorized)."""
        return self._pod_streams.port_forward(requests, None)

    async def handle(self, route: Route, *, query: Mapping[str, str], body: bytes, content_type: str,
                     accept: str) -> Reply | Stream:
        """Carry out one request; errors become Status replies here, with their HTTP codes."""
        writes = route.verb in ("create", "update", "patch")
        try:
            return await self._dispatch(route, query, body, content_type, accept)
        except errors.ApiError as e:
            causes = e.causes or (_causes_of(e.message) if writes and e.code == grpc.StatusCode.INVALID_ARGUMENT
                                  else [])
            code, body_ = status.from_api_error(e.code, e.message, causes=causes, kind=route.kind, name=route.name)
            return Reply(code, body_)
        except InvalidError as e:
            return Reply(422, status.status(422, "Invalid", str(e), kind=route.kind, name=e.name or route.name,
                                             causes=e.errors))
        except ApplyConflict as e:
            return Reply(409, status.status(409, "Conflict", str(e), kind=route.kind, name=route.name,
                                             causes=e.causes, cause_reason="FieldManagerConflict"))
        except (codec.BodyError, patch.PatchError, yaml.YAMLError) as e:
            return Reply(400, status.status(400, "BadRequest", str(e), kind=route.kind, name=route.name))

    async def _dispatch(self, route, query, body, content_type, accept):
        service = self._services[route.kind.name]
        context = _Context(query.get(names.DRY_RUN, ""))
        sub = route.subresource
        if sub and sub not in (names.STATUS, *names.SUBRESOURCES.get(route.kind.name, ())):
            raise errors.ApiError(grpc.StatusCode.NOT_FOUND,
                                  f'the server could not find the requested resource ({route.kind.plural}/{sub})')
        if sub == names.STATUS and not route.kind.has_status:
            raise errors.ApiError(grpc.StatusCode.NOT_FOUND, f"{route.kind.plural} have no status subresource")
        if sub == names.PROXYRULES:
            return await self._proxy_rules_reply(service, route)
        if route.verb == "patch" and content_type not in names.PATCH_TYPES:
            return Reply(415, status.status(415, "UnsupportedMediaType",
                                            f'Content-Type "{content_type}" is not a patch type: use one of '
                                            f'{", ".join(names.PATCH_TYPES)}'))
        if route.verb in ("create", "update") and body and content_type not in names.BODY_TYPES:
            return Reply(415, status.status(415, "UnsupportedMediaType",
                                            f'Content-Type "{content_type}" is not supported: send {" or ".join(names.BODY_TYPES)}'))
        if route.verb == "list":
            return await self._list(service, route, query, accept, context)
        if route.verb == "watch":
            return self._watch(service, route, query, accept, context)
        if route.verb == "create" and sub == names.TOKEN:
            data = codec.read_body(body, content_type)
            request = reviews.token_request(data, namespace=route.namespace, name=route.name)
            return Reply(201, reviews.token_json(data, await self._create_token(request)))
        if route.verb == "create" and sub == names.BINDING:
            return await self._bind(service, route, codec.read_body(body, content_type))
        if route.verb == "create" and sub == names.EVICTION:
            return await self._evict(service, route, codec.read_body(body, content_type) if body else {})
        if route.verb == "create":
            obj = codec.parse_object(route.kind, codec.read_body(body, content_type), namespace=route.namespace)
            authorize(service, "create", obj)
            return Reply(201, codec.to_json(await service.create(obj, context)))
        if route.verb == "get" and sub == names.LOG:
            return await self._logs(service, route, query)
        if route.verb == "get":
            request = meta_pb2.GetRequest(namespace=route.namespace, name=route.name)
            authorize(service, "get", request)
            obj = await service.get(request, context)
            return self._object_reply(route, obj, accept)
        if route.verb == "deletecollection":
            return await self._delete_collection(service, route, query,
                                                 codec.read_body(body, content_type) if body else {}, context)
        if route.verb == "delete":
            return await self._delete(service, route, query, codec.read_body(body, content_type) if body else {})
        if sub == names.SCALE:
            return await self._scale(service, route, body, content_type, context)
        if route.verb == "update":
            obj = codec.parse_object(route.kind, codec.read_body(body, content_type), namespace=route.namespace,
                                     name=route.name)
            return Reply(200, codec.to_json(await self._update(service, obj, sub, context)))
        return await self._patch(service, route, query, body, content_type, context)

    def _object_reply(self, route: Route, obj, accept: str) -> Reply:
        if route.subresource == names.SCALE:
            return Reply(200, codec.scale_to_json(obj))
        if tables.accepts_table(accept):
            return Reply(200, tables.table(route.kind, [obj], list_meta={"resourceVersion":
                                                                         obj.metadata.resource_version}))
        return Reply(200, codec.to_json(obj))

    async def _update(self, service: KindService, obj, sub: str, context):
        verb = "update_status" if sub == names.STATUS else "update"
        authorize(service, verb, obj)
        if sub == names.STATUS:
            return await service.update_status(obj, context)
        return await service.update(obj, context)

    async def _list(self, service, route, query, accept, context) -> Reply:
        request = meta_pb2.ListRequest(
            namespace=route.namespace, label_selector=query.get(names.LABEL_SELECTOR, ""),
            field_selector=query.get(names.FIELD_SELECTOR, ""), limit=_int(query, names.LIMIT) or 0,
            continue_token=query.get(names.CONTINUE, ""), resource_version=query.get(names.RESOURCE_VERSION, ""))
        authorize(service, "list", request)
        data = await service.list(request, context)
        if tables.accepts_table(accept):
            items, list_meta = codec.list_items(route.kind, data)
            return Reply(200, tables.table(route.kind, items, list_meta=list_meta))
        return Reply(200, codec.list_to_json(route.kind, data))

    def _watch(self, service, route, query, accept, context) -> Stream:
        request = meta_pb2.WatchRequest(
            namespace=route.namespace, label_selector=query.get(names.LABEL_SELECTOR, ""),
            field_selector=query.get(names.FIELD_SELECTOR, ""),
            resource_version=query.get(names.RESOURCE_VERSION, ""),
            allow_watch_bookmarks=query.get(names.ALLOW_BOOKMARKS, "").lower() in ("1", "true"))
        authorize(service, "watch", request)
        timeout = _int(query, names.TIMEOUT_SECONDS)
        as_table = tables.accepts_table(accept)

        async def events():
            # A deadline per event, not asyncio.timeout around the loop: that would cancel
            # whatever the consumer awaits between events, the response write included.
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout if timeout else None
            stream = service.watch(request, context)
            try:
                while deadline is None or loop.time() < deadline:
                    try:
                        data = await asyncio.wait_for(anext(stream), None if deadline is None
                                                      else deadline - loop.time())
                    except (StopAsyncIteration, TimeoutError):
                        return
                    kind_, obj = codec.watch_event(route.kind, data)
                    if as_table and kind_ != names.BOOKMARK:
                        yield {"type": kind_, "object": tables.table(route.kind, [obj])}
                    else:
                        yield {"type": kind_, "object": codec.to_json(obj)}
            except errors.ApiError as e:
                yield {"type": names.ERROR, "object": status.from_api_error(e.code, e.message)[1]}
            finally:
                await stream.aclose()
        return Stream(events(), names.JSON)

    async def _delete(self, service, route, query, options) -> Reply:
        request = _delete_request(query, options, namespace=route.namespace, name=route.name)
        authorize(service, "delete", request)
        if query.get(names.DRY_RUN) == names.DRY_RUN_ALL:
            get = meta_pb2.GetRequest(namespace=route.namespace, name=route.name)
            return Reply(200, codec.to_json(await service.get(get, None)))
        return Reply(200, codec.to_json(await service.delete(request, None)))

    async def _delete_collection(self, service, route, query, options, context) -> Reply:
        """DELETE on a collection: what the selectors list now, each deleted with the body's DeleteOptions.

        Authorized once, as `deletecollection` on the collection (as Kubernetes does, not per object);
        the answer is the list of what was deleted (or, with dryRun=All, would be). An object gone
        between the list and its delete is left out.
        """
        listing = meta_pb2.ListRequest(namespace=route.namespace,
                                       label_selector=query.get(names.LABEL_SELECTOR, ""),
                                       field_selector=query.get(names.FIELD_SELECTOR, ""))
        template = _delete_request(query, options, namespace=route.namespace, name="")
        authorize(service, "deletecollection", listing)
        items, list_meta = codec.list_items(route.kind, await service.list(listing, context))
        deleted = []
        for item in items:
            if query.get(names.DRY_RUN) == names.DRY_RUN_ALL:
                deleted.append(item)
                continue
            request = meta_pb2.DeleteRequest()
            request.CopyFrom(template)
            request.namespace, request.name = item.metadata.namespace, item.metadata.name
            try:
                deleted.append(await service.delete(request, None))
            except errors.ApiError as e:
                if e.code != grpc.StatusCode.NOT_FOUND:
                    raise
        return Reply(200, {"apiVersion": route.kind.api_version, "kind": route.kind.list_message.DESCRIPTOR.name,
                           "metadata": list_meta, "items": [codec.to_json(obj) for obj in deleted]})

    async def _bind(self, service, route, data) -> Reply:
        target = data.get("target") if isinstance(data, dict) else None
        if not isinstance(target, dict):
            raise InvalidError("Binding", route.name, [FieldError("target", "required")])
        binding = core_pb2.Binding(target=core_pb2.ObjectReference(kind=target.get("kind") or "",
                                                                    name=target.get("name") or ""))
        binding.metadata.namespace, binding.metadata.name = route.namespace, route.name
        authorize(service, "bind", binding)
        await service.bind(binding, None)
        return Reply(201, status.success())

    async def _evict(self, service, route, data) -> Reply:
        """kubectl drain's call: an Eviction (policy/v1) with optional deleteOptions."""
        options = data.get("deleteOptions") if isinstance(data, dict) else None
        eviction = policy_pb2.Eviction()
        eviction.metadata.namespace, eviction.metadata.name = route.namespace, route.name
        if isinstance(options, dict):
            if isinstance(options.get("gracePeriodSeconds"), int):
                eviction.delete_options.grace_period_seconds = options["gracePeriodSeconds"]
            preconditions = options.get("preconditions") or {}
            if isinstance(preconditions, dict):
                eviction.delete_options.preconditions.uid = preconditions.get("uid") or ""
                eviction.delete_options.preconditions.resource_version = preconditions.get("resourceVersion") or ""
        authorize(service, "evict", eviction)
        await service.evict(eviction, None)
        return Reply(201, status.success())

    async def _logs(self, service, route, query) -> Stream:
        request = node_agent_pb2.PodLogsRequest(
            namespace=route.namespace, name=route.name, container=query.get("container", ""),
            follow=query.get("follow", "").lower() in ("1", "true"),
            previous=query.get("previous", "").lower() in ("1", "true"),
            timestamps=query.get("timestamps", "").lower() in ("1", "true"))
        for param, field in (("tailLines", "tail_lines"), ("sinceSeconds", "since_seconds")):
            value = _int(query, param)
            if value is not None:
                setattr(request, field, value)
        authorize(service, "log", request)
        chunks = self._pod_streams.logs(request, None)
        first = await anext(chunks, None)  # errors (no such pod, not scheduled) before the 200

        async def data():
            try:
                if first is not None:
                    yield first.data
                async for chunk in chunks:
                    yield chunk.data
            finally:
                await chunks.aclose()  # ends the agent's stream when the client goes away
        return Stream(data(), "text/plain")

    async def _proxy_rules_reply(self, service, route) -> Reply:
        """GET pods/<name>/proxyrules: PodService/ProxyRules' answer as JSON (rest/proxyrules.py); read only."""
        if route.verb != "get":
            return Reply(405, status.status(405, "MethodNotAllowed",
                                            f"{route.kind.plural}/{names.PROXYRULES} is read only: GET it"))
        request = node_agent_pb2.PodProxyRulesRequest(namespace=route.namespace or "default", name=route.name)
        authorize(service, "proxyrules", request)
        return Reply(200, proxyrules.to_json(await self._proxy_rules.rules(request, None)))

    async def _scale(self, service, route, body, content_type, context) -> Reply:
        """GET, PUT or PATCH of a Deployment's or ReplicaSet's Scale: spec.replicas only."""
        for _ in range(_PATCH_RETRIES):
            obj = await service.get(meta_pb2.GetRequest(namespace=route.namespace, name=route.name), context)
            scale = codec.scale_to_json(obj)
            data = codec.loads(body)
            if route.verb == "patch":
                data = _patched(route, scale, data, content_type)
            replicas, rv = codec.scale_replicas(data)
            obj.spec.replicas = replicas
            if rv:
                obj.metadata.resource_version = rv
            try:
                return Reply(200, codec.scale_to_json(await self._update(service, obj, "", context)))
            except errors.ApiError as e:
                if e.code != grpc.StatusCode.ABORTED or rv:
                    raise
        raise errors.conflict(route.kind, route.name)

    async def _patch(self, service, route, query, body, content_type, context) -> Reply:
        """Read, patch the JSON, write conditionally on what was read; again if someone wrote between."""
        applying = content_type == names.APPLY_PATCH
        if applying:
            patch_body = yaml.safe_load(body or b"") if body else None
            manager = query.get(names.FIELD_MANAGER, "")
            if not manager:
                raise codec.BodyError(f"{names.FIELD_MANAGER}: required for an apply patch")
            applied_key = _applied_key(manager)
            _drop_annotation(patch_body, applied_key)
        else:
            patch_body = codec.loads(body)
        for _ in range(_PATCH_RETRIES):
            get = meta_pb2.GetRequest(namespace=route.namespace, name=route.name)
            try:
                live = await service.get(get, context)
            except errors.ApiError as e:
                if not (applying and e.code == grpc.StatusCode.NOT_FOUND and not route.subresource):
                    raise
                obj = codec.parse_object(route.kind, patch.apply_patch(route.kind, None, patch_body),
                                         namespace=route.namespace, name=route.name)
                obj.metadata.annotations[applied_key] = codec.dumps(patch_body).decode()
                authorize(service, "create", obj)
                return Reply(201, codec.to_json(await service.create(obj, context)))
            current = codec.to_json(live)
            taken: dict[str, list] = {}
            if applying and not route.subresource:
                previous = _json_or_none(live.metadata.annotations.get(applied_key))
                owners = codec.appliers(live.metadata.annotations, skip=applied_key)
                taken = managedfields.conflicts(route.kind, current, patch_body, owners)
                if taken and query.get(names.FORCE, "").lower() not in ("1", "true"):
                    raise ApplyConflict(taken)
                patched = patch.apply_patch(route.kind, current, patch_body, previous=previous)
                managedfields.restore(patched, current, [p for manager, record in owners.items()
                                                         for p in managedfields.leaves(
                                                             route.kind, managedfields.without(
                                                                 record, taken.get(manager, [])))])
            else:
                patched = _patched(route, current, patch_body, content_type)
            if isinstance(patched, dict):
                patched.setdefault("metadata", {})
            given_rv = _rv_of(patch_body)
            obj = codec.parse_object(route.kind, patched, namespace=route.namespace, name=route.name)
            if applying and not route.subresource:
                obj.metadata.annotations[applied_key] = codec.dumps(patch_body).decode()
                for manager, paths in taken.items():   # forced: the fields are the applier's now
                    obj.metadata.annotations[names.APPLIED_BY_PREFIX + manager] = codec.dumps(
                        managedfields.without(owners[manager], paths)).decode()
            if not given_rv:
                obj.metadata.resource_version = live.metadata.resource_version
            try:
                return Reply(200, codec.to_json(await self._update(service, obj, route.subresource, context)))
            except errors.ApiError as e:
                if e.code != grpc.StatusCode.ABORTED or given_rv:
                    raise
        raise errors.conflict(route.kind, route.name)


def _delete_request(query, options, *, namespace: str, name: str) -> meta_pb2.DeleteRequest:
    """DeleteOptions from the body (or the query's gracePeriodSeconds/propagationPolicy) as a DeleteRequest."""
    if not isinstance(options, dict):
        raise codec.BodyError("the body of a DELETE must be DeleteOptions")
    grace = _int(query, names.GRACE_PERIOD)
    if grace is None and isinstance(options.get("gracePeriodSeconds"), int):
        grace = options["gracePeriodSeconds"]
    preconditions = options.get("preconditions") or {}
    if not isinstance(preconditions, dict):
        raise codec.BodyError("preconditions: must be an object")
    request = meta_pb2.DeleteRequest(
        namespace=namespace, name=name,
        propagation_policy=query.get(names.PROPAGATION_POLICY, options.get("propagationPolicy") or ""),
        preconditions=meta_pb2.Preconditions(uid=preconditions.get("uid") or "",
                                             resource_version=preconditions.get("resourceVersion") or ""))
    if grace is not None:
        request.grace_period_seconds = grace
    return request


def _applied_key(manager: str) -> str:
    """The annotation holding what `manager` applied: its name made fit for an annotation key's name part."""
    room = 63 - len(names.APPLIED_BY_PREFIX.partition("/")[2])
    name = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "-" for c in manager)[:room]
    return names.APPLIED_BY_PREFIX + (name.strip("-_.") or "manager")


def _drop_annotation(body, key: str) -> None:
    """An applied manifest that carries the record of an earlier apply (say, from `get -o yaml`) does not
    keep it: the server writes it."""
    annotations = ((body or {}).get("metadata") or {}).get("annotations") if isinstance(body, dict) else None
    if isinstance(annotations, dict):
        annotations.pop(key, None)


def _json_or_none(text: str | None):
    try:
        return codec.loads(text.encode()) if text else None
    except codec.BodyError:
        return None


def _patched(route: Route, current: dict, body, content_type: str):
    if content_type == names.JSON_PATCH:
        return patch.json_patch(current, body)
    if content_type == names.MERGE_PATCH:
        return patch.merge_patch(current, body)
    if content_type == names.STRATEGIC_MERGE_PATCH:
        return patch.strategic_merge_patch(route.kind, current, body)
    return patch.apply_patch(route.kind, current, body)


def _rv_of(body) -> str:
    meta = body.get("metadata") if isinstance(body, dict) else None
    return str(meta.get("resourceVersion") or "") if isinstance(meta, dict) else ""


def _causes_of(message: str) -> list[FieldError]:
    """Field causes of an invalid-object message that came as text: 'path: reason' after 'is invalid: '."""
    text = message.split(" is invalid: ", 1)[-1]
    found = []
    for part in text.split("; "):
        path, sep, reason = part.partition(": ")
        found.append(FieldError(path, reason) if sep and " " not in path else FieldError("", part))
    return found
