"""`cox agent`: the node agent, one binary with the control plane as in k3s.

The agent's code lives in agent/ (Kubernetes ships the kubelet as its own
binary); this is the one place controlplane/ reaches into agent/, and only
to register the command, which agent/cli.py keeps cheap to import.
"""
import importlib


def register(sub) -> None:
    importlib.import_module("agent.cli").register(sub)
