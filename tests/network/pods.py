"""Pods as the network sees them, without a kubelet: containers on a node's pod network.

A busybox httpd whose one CGI page prints the client's address, so a test
can see whether a request kept its pod source address or was masqueraded.
"""
from __future__ import annotations

import docker

from agent.network.podbridge import POD_NETWORK
from localcluster.images import BUSYBOX_IMAGE

HTTP_PORT = 8080
WHO_AM_I = ("mkdir -p /www/cgi-bin && "
            "printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho $REMOTE_ADDR\\n' > /www/cgi-bin/peer && "
            "chmod +x /www/cgi-bin/peer && echo ok > /www/index.html && "
            f"exec httpd -f -p {HTTP_PORT} -h /www")


def run_pod(api: docker.APIClient, name: str, command: str = "exec sleep 3600") -> str:
    """Start a container on the pod network; returns its (pod) IP."""
    container = api.create_container(BUSYBOX_IMAGE, command=["sh", "-c", command], name=name,
                                     host_config=api.create_host_config(network_mode=POD_NETWORK))
    api.start(container["Id"])
    return api.inspect_container(container["Id"])["NetworkSettings"]["Networks"][POD_NETWORK]["IPAddress"]


def exec_in(api: docker.APIClient, container: str, command: str) -> tuple[int, str]:
    run = api.exec_create(container, ["sh", "-c", command])
    output = api.exec_start(run["Id"]).decode(errors="replace")
    return api.exec_inspect(run["Id"])["ExitCode"], output


def peer_address(text: str) -> str:
    """httpd listens on IPv6 too and reports an IPv4 client as [::ffff:a.b.c.d]."""
    return text.strip().removeprefix("[::ffff:").removesuffix("]")


def fetch(api: docker.APIClient, container: str, url: str, *, seconds: int = 5) -> tuple[int, str]:
    """busybox wget under `timeout` (its own -T segfaults on Debian's 1.35)."""
    return exec_in(api, container, f"timeout {seconds} wget -q -O- {url}")
