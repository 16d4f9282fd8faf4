"""A node with pods, as network namespaces, for the proxy's kernel tests.

  ext (198.18.0.2) --veth-- node (198.18.0.11; pod bridge 198.19.0.1/24; the Service CIDR's sink)
                              |-- pod b1 198.19.0.11   each pod answers TCP and UDP :8080 with its name
                              |-- pod b2 198.19.0.12
                              `-- pod b3 198.19.0.13
"""
import json
import pathlib
import subprocess
import sys

from agent.proxy.applier import NetlinkApplier
from agent.proxy.model import Endpoint
from agent.proxy.sink import ensure_service_sink
from tests.support.netns import Lab

ECHO = str(pathlib.Path(__file__).with_name("echo.py"))
SERVICE_CIDR = "198.19.128.0/20"
NODE_IP = "198.18.0.11"
PODS = {"b1": "198.19.0.11", "b2": "198.19.0.12", "b3": "198.19.0.13"}


class NodeWithPods:
    def __init__(self, lab: Lab):
        self.node = lab.netns("node")
        self.node.sysctl("net.ipv4.ip_forward", 1)
        bridge = lab.bridge(self.node, address="198.19.0.1/24", prefix="cbr")
        self.pods = {}
        for name, ip in PODS.items():
            pod = lab.netns(name)
            lab.veth(self.node, pod, a_bridge=bridge, hairpin=True, b_address=f"{ip}/24", b_gateway="198.19.0.1")
            server = lab.process(pod, sys.executable, ECHO, "serve", name, "8080", stdout=subprocess.PIPE, text=True)
            assert server.stdout.readline().strip() == "ready"
            self.pods[name] = pod
        self.ext = lab.netns("ext")
        lab.veth(self.node, self.ext, a_address=f"{NODE_IP}/24", b_address="198.18.0.2/24")
        ensure_service_sink(cidr=SERVICE_CIDR, netns=self.node.name)
        self.applier = NetlinkApplier(netns=self.node.name)


def tcp(ns, host, port, count=1):
    """Answers (pod names) or errors of `count` TCP connections made from `ns`."""
    return json.loads(ns.run(sys.executable, ECHO, "get", host, str(port), str(count)).stdout)


def udp(ns, host, port, count=1):
    return json.loads(ns.run(sys.executable, ECHO, "udp", host, str(port), str(count)).stdout)


def backends(*names):
    return tuple(Endpoint(PODS[n], 8080) for n in names)
