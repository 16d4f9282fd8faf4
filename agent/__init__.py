"""The node agent: kubelet, container runtime, kube-proxy and pod network."""
