"""A pod's READY, STATUS and RESTARTS columns, by kubectl's rules.

The phase alone says little ("Pending" for a pod whose image will never
pull), so STATUS names the most telling thing about the pod instead:

- while init containers run: "Init:N/M", or the failing one's reason
  ("Init:CrashLoopBackOff", "Init:Error", "Init:ExitCode:3"); a sidecar
  (restartPolicy Always) counts once it has started, and in READY and
  RESTARTS beside the app containers;
- then the last container that is not running says why: its waiting reason
  ("ContainerCreating", "CrashLoopBackOff", "ImagePullBackOff") or how it
  ended ("Completed", "Error", "OOMKilled", "Signal:9", "ExitCode:1");
- "Terminating" once the pod has a deletionTimestamp (and "Unknown" when its
  node was lost);
- otherwise the pod's status.reason, else its phase.
"""
from dataclasses import dataclass

from controlplane.api import podresources
from controlplane.cli.printing.age import human_duration, is_set


@dataclass(frozen=True)
class PodSummary:
    ready: str     # "1/2"
    status: str    # "Running", "CrashLoopBackOff", "Init:0/1", "Terminating"
    restarts: str  # "3", or "3 (42s ago)"


def summarize(pod, now: float) -> PodSummary:
    spec, status = pod.spec, pod.status
    reason = status.reason or status.phase
    restarts = 0
    last_restart = 0
    sidecars = {c.name for c in spec.init_containers if podresources.is_sidecar(c)}
    total = len(spec.containers) + len(sidecars)
    ready = side_restarts = side_last = 0

    initializing = False
    for index, cs in enumerate(status.init_container_statuses):
        restarts += cs.restart_count
        last_restart = max(last_restart, _finished_seconds(cs))
        if cs.name in sidecars:
            side_restarts += cs.restart_count
            side_last = max(side_last, _finished_seconds(cs))
            if cs.started:
                ready += cs.ready
                continue
        init_reason = _init_reason(cs, index, len(spec.init_containers))
        if init_reason is None:
            continue
        reason, initializing = init_reason, True
        break

    if not initializing or _condition_true(pod, "Initialized"):
        restarts, last_restart = side_restarts, side_last
        running = False
        for cs in reversed(status.container_statuses):
            restarts += cs.restart_count
            last_restart = max(last_restart, _finished_seconds(cs))
            state = cs.state
            if state.HasField("waiting") and state.waiting.reason:
                reason = state.waiting.reason
            elif state.HasField("terminated"):
                reason = state.terminated.reason or _exit_description(state.terminated)
            elif state.HasField("running") and cs.ready:
                running = True
                ready += 1
        if reason == "Completed" and running:
            reason = "Running" if _condition_true(pod, "Ready") else "NotReady"

    if pod.metadata.HasField("deletion_timestamp"):
        reason = "Unknown" if status.reason == "NodeLost" else "Terminating"

    restart_text = str(restarts)
    if restarts and last_restart:
        restart_text += f" ({human_duration(now - last_restart)} ago)"
    return PodSummary(ready=f"{ready}/{total}", status=reason, restarts=restart_text)


def _init_reason(cs, index: int, count: int) -> str | None:
    """What STATUS says about init container `index`; None if it finished well."""
    state = cs.state
    if state.HasField("terminated"):
        if state.terminated.exit_code == 0:
            return None
        return "Init:" + (state.terminated.reason or _exit_description(state.terminated))
    if state.HasField("waiting") and state.waiting.reason and state.waiting.reason != "PodInitializing":
        return "Init:" + state.waiting.reason
    return f"Init:{index}/{count}"


def _exit_description(terminated) -> str:
    """For a container that ended without a reason given."""
    return f"Signal:{terminated.signal}" if terminated.signal else f"ExitCode:{terminated.exit_code}"


def _finished_seconds(cs) -> int:
    last = cs.last_state
    if last.HasField("terminated") and is_set(last.terminated.finished_at):
        return last.terminated.finished_at.seconds
    return 0


def _condition_true(pod, kind: str) -> bool:
    return any(c.type == kind and c.status == "True" for c in pod.status.conditions)
