"""Cluster DNS, one server per node inside the agent (NodeLocal DNSCache's place, CoreDNS' answers).

Every agent answers on the same link-local address (169.254.20.10) that it
puts on a device of its own, so the kubelet can tell pods the nameserver
before the node even has a podCIDR, and a pod's queries never leave its node.
Records come from Services and Endpoints through informers; names outside
the cluster domain go to the node's own resolvers. README.md has the design.
"""
