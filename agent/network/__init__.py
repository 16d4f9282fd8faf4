"""The node's pod network, flannel host-gw style: a bridge on the node's podCIDR, a route per other node.

The pod bridge is a Docker network on this node's spec.podCIDR, so the pause
container's address is the pod IP; every other node's podCIDR is routed via
that node's InternalIP; pod traffic leaving the cluster CIDR is masqueraded.
No overlay: the nodes must share one L2 segment (README.md says why and how
Docker's own firewall rules are kept out of the way).
"""
