"""A small Docker Engine API client: exactly the calls the agent makes, in Docker's own JSON.

docker-py (with requests, urllib3 and their kin) cost the agent about 5 MB of memory for a
few dozen HTTP calls; these are those calls over dockerhttp.py. Names and arguments follow
docker-py's low-level APIClient where the agent used them, but bodies are the Engine API's
JSON as Docker documents it (Config, HostConfig, ...): the caller writes what Docker reads.

Every path is prefixed with the API version (`/v1.41/...`). Like docker-py's version="auto" the
daemon is asked once (GET /version, which needs no prefix) and its version used, capped to the
newest this client was written against (newer ones change answers) and refused below the
oldest it needs (stats' one-shot came in 1.41, Docker 20.10).

Calls block; engine.py runs them on threads. Errors: DockerError (Docker's status and message),
DockerUnreachable (no answer); errors.py turns both into the agent's runtime errors.
"""
from __future__ import annotations

import base64
import json
import socket
import threading

from agent.runtime.dockerhttp import DEFAULT_TIMEOUT, DockerError, Transport, path_of, query_string
from agent.runtime.dockerstream import Stream, drain_progress

MINIMUM_VERSION = (1, 41)
MAXIMUM_VERSION = (1, 45)


def _version_tuple(text: str) -> tuple[int, int]:
    major, _, minor = text.partition(".")
    return int(major), int(minor)


def _filters(filters: dict) -> str:
    """Docker's filters parameter: JSON of {name: [values]}."""
    return json.dumps({k: v if isinstance(v, list) else [v] for k, v in filters.items()})


class DockerAPI:
    """One daemon's Engine API. Thread-safe: each thread keeps its own connection."""

    def __init__(self, base_url: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._http = Transport(base_url, timeout=timeout)
        self.base_url = base_url
        self._prefix = ""
        self._negotiating = threading.Lock()

    # -- plumbing

    def api_version(self) -> str:
        """The version every call uses, asked of the daemon on first need."""
        if not self._prefix:
            with self._negotiating:
                if not self._prefix:
                    daemon = _version_tuple(self._json("GET", "/version")["ApiVersion"])
                    if daemon < MINIMUM_VERSION:
                        raise DockerError(400, f"Docker at {self.base_url} speaks API {daemon[0]}.{daemon[1]}; "
                                               f"at least {MINIMUM_VERSION[0]}.{MINIMUM_VERSION[1]} is needed")
                    self._prefix = "/v%d.%d" % min(daemon, MAXIMUM_VERSION)
        return self._prefix.removeprefix("/v")

    def _url(self, template: str, *args: str, params: dict | None = None) -> str:
        self.api_version()
        return self._prefix + path_of(template, *args) + query_string(params)

    def _json(self, method: str, url: str, *, body=None, timeout: float | None = None, headers=None):
        """Send a JSON body (if any); the answer decoded (None for an empty one)."""
        data = json.dumps(body).encode() if body is not None else None
        sent = {"Content-Type": "application/json", **(headers or {})} if data is not None else headers
        answer = self._http.request(method, url, body=data, headers=sent, timeout=timeout)
        return json.loads(answer) if answer.strip() else None

    def _stream(self, method: str, url: str, *, shape: str, timeout: float | None, **kwargs) -> Stream:
        return Stream(*self._http.stream(method, url, timeout=timeout, **kwargs), shape=shape)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "DockerAPI":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- system

    def version(self) -> dict:
        return self._json("GET", self._url("/version"))

    def events(self, *, filters: dict) -> Stream:
        """Events from now on, as they happen (dicts): the answer never ends by itself."""
        url = self._url("/events", params={"filters": _filters(filters)})
        return self._stream("GET", url, shape="objects", timeout=None)

    # -- containers

    def create_container(self, config: dict, *, name: str | None = None) -> dict:
        """Create from Docker's container Config (HostConfig inside it); {"Id": ..., "Warnings": [...]}."""
        return self._json("POST", self._url("/containers/create", params={"name": name}), body=config)

    def start(self, container: str) -> None:
        self._http.request("POST", self._url("/containers/{}/start", container))

    def stop(self, container: str, *, timeout: int) -> None:
        """Docker waits out the grace period itself, so the answer may take that long."""
        self._http.request("POST", self._url("/containers/{}/stop", container, params={"t": timeout}),
                           timeout=self._http.timeout + timeout)

    def kill(self, container: str, *, signal: str = "SIGKILL") -> None:
        self._http.request("POST", self._url("/containers/{}/kill", container, params={"signal": signal}))

    def remove_container(self, container: str, *, force: bool = False, v: bool = False) -> None:
        self._http.request("DELETE", self._url("/containers/{}", container, params={"force": force, "v": v}))

    def inspect_container(self, container: str) -> dict:
        return self._json("GET", self._url("/containers/{}/json", container))

    def containers(self, *, all: bool = False, filters: dict | None = None) -> list[dict]:
        params = {"all": all, "filters": _filters(filters) if filters else None}
        return self._json("GET", self._url("/containers/json", params=params))

    def stats(self, container: str, *, one_shot: bool = True) -> dict:
        """One sample (stream=0); one-shot skips the second cgroup read that fills precpu_stats."""
        return self._json("GET", self._url("/containers/{}/stats", container,
                                           params={"stream": False, "one-shot": one_shot}))

    def resize(self, container: str, *, height: int, width: int) -> None:
        self._http.request("POST", self._url("/containers/{}/resize", container, params={"h": height, "w": width}))

    def logs(self, container: str, *, follow: bool = False, timestamps: bool = False, tail: str | int = "all",
             since: float | None = None) -> Stream:
        """stdout and stderr as written, in chunks of bytes. Whether the log stream is multiplexed
        depends on the container's tty, which only its inspect tells (API < 1.42 does not say)."""
        tty = bool(self.inspect_container(container)["Config"].get("Tty"))
        params = {"stdout": True, "stderr": True, "follow": follow, "timestamps": timestamps, "tail": tail,
                  "since": since or None}
        return self._stream("GET", self._url("/containers/{}/logs", container, params=params),
                            shape="chunks" if tty else "frames", timeout=None if follow else self._http.timeout)

    def attach_socket(self, container: str, *, stdin: bool = False) -> socket.socket:
        """The main process's output from now on (and its stdin): a hijacked socket."""
        params = {"stream": True, "stdout": True, "stderr": True, "stdin": stdin}
        return self._http.hijack(self._url("/containers/{}/attach", container, params=params))

    # -- exec

    def exec_create(self, container: str, cmd: list[str], *, stdout: bool = True, stderr: bool = True,
                    stdin: bool = False, tty: bool = False) -> dict:
        body = {"Cmd": cmd, "AttachStdin": stdin, "AttachStdout": stdout, "AttachStderr": stderr, "Tty": tty,
                "Privileged": False, "User": ""}
        return self._json("POST", self._url("/containers/{}/exec", container), body=body)

    def exec_start(self, exec_id: str, *, tty: bool = False) -> socket.socket:
        """Start the exec'd process attached: a hijacked socket to its stdin and output."""
        return self._http.hijack(self._url("/exec/{}/start", exec_id), body={"Detach": False, "Tty": tty})

    def exec_inspect(self, exec_id: str) -> dict:
        return self._json("GET", self._url("/exec/{}/json", exec_id))

    def exec_resize(self, exec_id: str, *, height: int, width: int) -> None:
        self._http.request("POST", self._url("/exec/{}/resize", exec_id, params={"h": height, "w": width}))

    # -- images

    def inspect_image(self, image: str) -> dict:
        return self._json("GET", self._url("/images/{}/json", image))

    def pull(self, repository: str, *, tag: str, auth_config: dict | None = None) -> None:
        """Pull to the end (a pull's answer streams progress; no time limit). auth_config: the
        registry credentials (username, password, serveraddress ...), sent as X-Registry-Auth,
        base64url of their JSON."""
        headers = {}
        if auth_config:
            headers["X-Registry-Auth"] = base64.urlsafe_b64encode(json.dumps(auth_config).encode()).decode()
        url = self._url("/images/create", params={"fromImage": repository, "tag": tag})
        drain_progress(self._stream("POST", url, shape="objects", headers=headers, timeout=None))

    def import_image_from_data(self, data: bytes, *, repository: str, tag: str,
                               changes: list[str] | None = None) -> None:
        """`docker import` of a root filesystem tar (fromSrc=-: the tar is the body)."""
        params = {"fromSrc": "-", "repo": repository, "tag": tag, "changes": changes}
        drain_progress(self._stream("POST", self._url("/images/create", params=params), shape="objects", body=data,
                                    headers={"Content-Type": "application/x-tar"}, timeout=self._http.timeout))

    # -- networks

    def inspect_network(self, network: str) -> dict:
        return self._json("GET", self._url("/networks/{}", network))

    def create_network(self, name: str, *, driver: str, options: dict, labels: dict, ipam: dict) -> dict:
        """ipam: Docker's IPAM object ({"Driver": ..., "Config": [{"Subnet": ..., ...}]})."""
        body = {"Name": name, "Driver": driver, "Options": options, "Labels": labels, "IPAM": ipam,
                "CheckDuplicate": True}
        return self._json("POST", self._url("/networks/create"), body=body)

    def remove_network(self, network: str) -> None:
        self._http.request("DELETE", self._url("/networks/{}", network))
