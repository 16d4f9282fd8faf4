"""The parts of pyroute2 the agent uses, without pyroute2's package __init__ (controlplane/imports.py).

`import pyroute2` (and so `from pyroute2.x import y`, which runs the package
first) imports all of pyroute2: NDB with sqlite3, IPDB, wireless, devlink,
plan9: 163 of its modules where these four names need 102, and ~5 MB of the
agent's memory (bench/agent_memory_bench.py). Its netlink socket module
imports unittest.mock at its top, for a test mode the agent never turns on,
and with it unittest's whole test runner (~1 MB): unittest is registered the
same way, so only unittest.mock and the helper it needs load.
"""
from controlplane.imports import without_init

without_init("unittest")
without_init("pyroute2")

from pyroute2.conntrack import Conntrack  # noqa: E402
from pyroute2.iproute.linux import IPRoute  # noqa: E402
from pyroute2.netlink.exceptions import NetlinkError  # noqa: E402
from pyroute2.netlink.nfnetlink.nfctsocket import NFCTAttrTuple  # noqa: E402

__all__ = ["Conntrack", "IPRoute", "NFCTAttrTuple", "NetlinkError"]
