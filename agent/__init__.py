"""The node agent: kubelet (pods on the Docker Engine) and kube-proxy (Services on nftables)."""
