"""The kubelet: runs the pods bound to this node on the Docker Engine, and says how they are.

Read kubelet.py first (the assembly and its diagram), then podplan.py (what
one pod needs next: pure) and podworker.py (which carries that out, step by
step: podsandbox.py makes and wires a sandbox, starting.py starts a
container, stopping.py stops one), then the pieces they use:

- sources: the API server's pods of this node and the Services (informers), static.py
  (manifest files) and mirror.py (their reflection in the API);
- podspec.py, envvars.py, serviceenv.py, downward.py, security.py, volumes.py,
  projection.py, ownership.py (fsGroup), pullsecrets.py (imagePullSecrets as
  registry credentials): a PodSpec turned into what Docker needs;
- pleg.py: what Docker has, kept current (relist + events);
- prober/: liveness, readiness and startup probes;
- backoff.py, status.py, statusmanager.py, recorder.py: crash-loop back-off,
  the API status, writing it, and Events;
- node.py, nodeinfo.py: the Node object, its Lease and conditions;
- server.py, streaming.py: the endpoint the API server calls for logs and exec.

Every Docker call goes through agent/runtime/.
"""
