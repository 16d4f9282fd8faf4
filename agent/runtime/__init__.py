"""The container runtime: the one place in coxswain that talks to Docker.

The kubelet speaks in pods (types.py); this package turns that into Docker
Engine calls through our own small client (dockerapi.py), each on a worker thread
(engine.py). A pod is a pause container that owns the network namespace
(sandbox.py, pause.py) plus containers joined to it (containers.py). Every
container is labelled as ours (labels.py), so listing by label is how the
kubelet finds, adopts and cleans up what it made. Images follow the pull
policy (images.py, with rootfs.py for the registry-free local images); logs
and exec are streams (streams.py); Docker's event stream wakes the kubelet
when a container changes (events.py). Failures surface as errors.py's types,
never as HTTP statuses. hollow.py is no part of a node: a test double with the
same interface, in memory, for the hollow nodes of tests and benchmarks.
"""
from agent.runtime.runtime import Runtime

__all__ = ["Runtime"]
