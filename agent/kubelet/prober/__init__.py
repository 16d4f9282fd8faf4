"""Probes: is a container alive, ready, started?

One worker per (container, probe kind) runs its probe every periodSeconds
(runners.py: exec in the container, HTTP GET or a TCP connect to the pod's
IP), counts consecutive results against the success and failure thresholds
(worker.py), and records the verdict in a results table (results.py) that
tells the pod worker when it flips. The manager (manager.py) starts and
stops workers as containers come and go. Liveness and startup failures make
the pod worker restart the container; readiness drives the Ready condition.
"""
from agent.kubelet.prober.manager import ProbeManager

__all__ = ["ProbeManager"]
