"""The REST façade's HTTP/1.1 server (aiohttp, TLS): requests in, replies out, nothing else.

It authenticates the bearer token with the same authenticators the gRPC
interceptor uses and sets `auth.current_user` as that interceptor does, then
hands discovery paths to discovery.py and resource paths to handlers.py.
Watches and logs are written as chunked streams, one JSON line per event.
"""
import asyncio
import logging
import pathlib
import ssl
from typing import Callable, Mapping

from aiohttp import WSMsgType, web

from controlplane.api.v1.node_agent_pb2 import ExecInput
from controlplane.apiserver import auth, errors
from controlplane.apiserver.podstreams import PodStreams
from controlplane.apiserver.proxyrules import ProxyRules
from controlplane.apiserver.rest import (channels, codec, discovery, handlers, metricsapi, names, olderversions,
                                         openapi, paths, portforward, spdy, status)
from controlplane.apiserver.authz import Decision, Verdict
from controlplane.apiserver.service import KindService
from controlplane.dashboard import api as dashboard_api, assets as dashboard_assets
from controlplane.metrics import apiserver as metrics, endpoint


log = logging.getLogger(__name__)

MAX_BODY_BYTES = 3 * 1024 * 1024
# Answered without a token, as kube-apiserver answers them to anonymous callers.
_PUBLIC = ("/version", "/healthz", "/livez", "/readyz")


def _json(code: int, body: dict) -> web.Response:
    return web.Response(status=code, body=codec.dumps(body), content_type=names.JSON)


def _not_found(path: str) -> web.Response:
    return _json(404, status.status(404, "NotFound", f"the server could not find the requested resource ({path})"))


class RestServer:
    """Serve `services` (kind name -> KindService) over HTTPS on host:port."""

    def __init__(self, *, services: Mapping[str, KindService], pod_streams: PodStreams | None,
                 authenticate: Callable[[str | None], auth.User | None],
                 authorize_url: Callable[[auth.User, str, str], Decision], review, create_token, rules,
                 proxy_rules: ProxyRules):
        """`review`, `create_token`, `rules`: the API server's answers to access reviews, token requests and
        rules reviews; `proxy_rules`: to pods/proxyrules."""
        self._handlers = handlers.Handlers(services, pod_streams, review=review, create_token=create_token,
                                           rules=rules, proxy_rules=proxy_rules)
        self._authenticate = authenticate
        self._authorize_url = authorize_url
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self, *, host: str, port: int, cert_file: pathlib.Path, key_file: pathlib.Path) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        context.set_alpn_protocols(["http/1.1"])
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_route("*", "/{tail:.*}", self._serve)
        # Cancel a handler whose client went away (a watch would wait for its next event to notice),
        # and give open streams a second at shutdown.
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, handler_cancellation=True,
                                     shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host or "0.0.0.0", port, ssl_context=context, reuse_address=True)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        if dashboard_assets.is_asset(request.path):  # the page's files carry no data: no token (assets.py)
            code, body, headers = dashboard_assets.asset(request.path)
            return web.Response(status=code, body=body, headers=headers)
        path = request.path.rstrip("/") or "/"
        if path in _PUBLIC:
            return _json(200, discovery.version()) if path == "/version" else web.Response(text="ok")
        header = request.headers.get("Authorization", "")
        token = header[len("Bearer "):].strip() if header.startswith("Bearer ") else None
        user = self._authenticate(token)
        if user is None:
            return _json(401, status.status(401, "Unauthorized", "Unauthorized: a valid bearer token is required"))
        acting = request.headers.get(names.IMPERSONATE_USER)
        if acting:
            if auth.ADMIN_GROUP not in user.groups:
                return _json(403, status.status(403, "Forbidden", f'users "{acting}" is forbidden: User '
                                                f'"{user.name}" cannot impersonate resource "users"'))
            user = auth.User(acting, tuple(request.headers.getall(names.IMPERSONATE_GROUP, [])))
        auth.current_user.set(user)
        if path == endpoint.PATH:
            return self._metrics(user, request.method)
        if path.startswith(dashboard_api.API_PREFIX):
            found = await dashboard_api.answer(path, request.method, request.query, self._handlers.handle)
            return _json(found.code, found.body) if isinstance(found, handlers.Reply) else \
                await self._stream(request, found)
        if path in ("/api", "/apis") and discovery.wants_aggregated(request.headers.get("Accept", "")):
            return web.Response(body=codec.dumps(discovery.aggregated(core=path == "/api")),
                                headers={"Content-Type": discovery.AGGREGATED_CONTENT_TYPE})
        if path == names.SELF_SUBJECT_ACCESS_REVIEWS and request.method == "POST":
            reply = await self._handlers.access_review(body=await request.read(), content_type=request.content_type)
            return _json(reply.code, reply.body)
        if path == names.SELF_SUBJECT_RULES_REVIEWS and request.method == "POST":
            reply = await self._handlers.rules_review(body=await request.read(), content_type=request.content_type)
            return _json(reply.code, reply.body)
        found = self._discovery(path)
        if found is not None:
            return _json(200, found) if request.method == "GET" else _json(
                405, status.status(405, "MethodNotAllowed", f"{request.method} is not allowed on {path}"))
        older = olderversions.version_of(path)
        try:
            route = (metricsapi.route if metricsapi.serves(path) else olderversions.route if older else paths.parse)(
                path, request.method, watch=request.query.get(names.WATCH, ""))
        except paths.RouteError:
            return _not_found(path)
        except paths.MethodError as e:
            return _json(405, status.status(405, "MethodNotAllowed", str(e)))
        if route.subresource in (names.EXEC, names.ATTACH) and route.kind.name == "Pod":
            return await self._exec(request, route)
        if route.subresource == names.PORTFORWARD and route.kind.name == "Pod":
            return await self._port_forward(request, route)
        body = await request.read() if request.can_read_body else b""
        # A body without a Content-Type is taken as JSON (what the Python client sends that way).
        content_type = request.content_type if "Content-Type" in request.headers else names.JSON
        if older:
            try:
                body, content_type = olderversions.request_body(route, older, body, content_type)
            except codec.BodyError as e:
                return _json(400, status.status(400, "BadRequest", str(e)))
            except olderversions.UnsupportedPatch as e:
                return _json(415, status.status(415, "UnsupportedMediaType", str(e)))
        served = metrics.Request(route.verb, route.kind.plural, route.subresource)
        result = await self._handlers.handle(route, query=request.query, body=body, content_type=content_type,
                                             accept=request.headers.get("Accept", ""))
        if isinstance(result, handlers.Reply):
            served.done(result.code)
            answer = result.body
            if result.code < 300 and metricsapi.serves(path):
                answer = metricsapi.answer(answer)
            elif result.code < 300 and older:
                answer = olderversions.answer(older, answer)
            return _json(result.code, answer)
        if older:
            result = handlers.Stream(olderversions.events(older, result.items), result.content_type)
        try:
            return await self._stream(request, result)
        finally:
            served.done(200)

    def _metrics(self, user: auth.User, method: str) -> web.Response:
        """This process's Prometheus metrics, for the admin group and whoever RBAC lets get /metrics."""
        if method != "GET":
            return _json(405, status.status(405, "MethodNotAllowed", f"{method} is not allowed on {endpoint.PATH}"))
        decision = self._authorize_url(user, "get", endpoint.PATH)
        if decision.verdict is not Verdict.ALLOW:
            return _json(403, status.status(403, "Forbidden", f'User "{user.name}" cannot get path '
                                                              f'"{endpoint.PATH}": {decision.reason}'))
        body, content_type = endpoint.page()
        return web.Response(body=body, headers={"Content-Type": content_type})

    @staticmethod
    def _discovery(path: str) -> dict | None:
        if path == "/api":
            return discovery.core_versions()
        if path == "/apis":
            return discovery.groups()
        if path == openapi.ROOT:
            return openapi.root()
        if path.startswith(openapi.ROOT + "/"):
            return openapi.document(path)
        segments = path.strip("/").split("/")
        if len(segments) == 2 and segments[0] == "apis":
            return discovery.group(segments[1])
        found = paths.group_version_of(segments)
        if found is not None and not found[1]:
            return discovery.resources(found[0])
        return None

    async def _exec(self, request: web.Request, route: paths.Route) -> web.StreamResponse:
        """pods/exec over a WebSocket: client messages to ExecInputs, ExecOutputs to client messages."""
        session = self._handlers.exec_session(route, request.query)
        if isinstance(session, handlers.Reply):
            return _json(session.code, session.body)
        ws = web.WebSocketResponse(protocols=channels.PROTOCOLS)
        if not ws.can_prepare(request).ok:
            return _json(400, status.status(400, "BadRequest", f"{route.subresource} is served over WebSocket "
                                            f"({', '.join(channels.PROTOCOLS)}) only, not SPDY"))
        await ws.prepare(request)
        inputs: asyncio.Queue = asyncio.Queue()

        async def requests():
            yield ExecInput(start=session.start)
            while (item := await inputs.get()) is not None:
                yield item

        async def read():
            async for message in ws:
                if message.type == WSMsgType.BINARY and (item := channels.to_input(message.data)) is not None:
                    await inputs.put(item)
            await inputs.put(None)

        reader = asyncio.create_task(read())
        exit_code = 0
        try:
            async for output in session.run(requests()):
                for data in channels.outputs(output):
                    await ws.send_bytes(data)
                if output.HasField("exit_code"):
                    exit_code = output.exit_code
            await ws.send_bytes(channels.exit_status(exit_code))
        except errors.ApiError as e:
            await ws.send_bytes(channels.failure(status.from_api_error(e.code, e.message, kind=route.kind,
                                                                       name=route.name)[1]))
        except ConnectionError:
            pass  # the client went away
        finally:
            reader.cancel()
            await ws.close()
        return ws

    async def _port_forward(self, request: web.Request, route: paths.Route) -> web.StreamResponse:
        """pods/portforward: SPDY/3.1 in WebSocket binary messages (kubectl 1.31+), one Session per request."""
        start = self._handlers.port_forward_start(route)
        if isinstance(start, handlers.Reply):
            return _json(start.code, start.body)
        ws = web.WebSocketResponse(protocols=(portforward.WEBSOCKET_PROTOCOL,))
        if not ws.can_prepare(request).ok:
            return _json(400, status.status(400, "BadRequest", "port-forward is served over WebSocket "
                                            f"({portforward.WEBSOCKET_PROTOCOL}) only, not SPDY"))
        await ws.prepare(request)
        session = portforward.Session(start=start, forward=self._handlers.port_forward, send=ws.send_bytes)
        try:
            async for message in ws:
                if message.type == WSMsgType.BINARY:
                    await session.received(message.data)
        except (spdy.ProtocolError, ConnectionError) as e:
            log.info("port-forward to pod %s/%s ended: %s", start.namespace, start.pod, e)
        finally:
            await session.close()
            await ws.close()
        return ws

    @staticmethod
    async def _stream(request: web.Request, stream: handlers.Stream) -> web.StreamResponse:
        response = web.StreamResponse(status=200, headers={"Content-Type": stream.content_type})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            async for item in stream.items:
                await response.write(item if isinstance(item, bytes) else codec.dumps(item) + b"\n")
        except (ConnectionResetError, ConnectionError):
            pass  # the client went away
        finally:
            await stream.items.aclose()
        return response
