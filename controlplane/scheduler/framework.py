"""The scheduling framework's extension points: one interface each, with its contract.

A scheduling attempt for one pod runs, in order:

    QueueSort     orders the pods waiting to be scheduled
    PreFilter     works out per-attempt state; may reject the pod outright
    Filter        rules out nodes that cannot run the pod
    PostFilter    runs only when no node is left (preemption)
    PreScore      works out per-attempt state for scoring
    Score         ranks the nodes that are left; weighted, normalised to 0..100
    Reserve       claims what the chosen node gives the pod, before binding
    Bind          tells the API server (pods/binding)

A rule is one plugin: a class implementing the extension points it needs
(`plugins/`, default set and weights in `plugins/registry.py`). Unlike
Kubernetes', Filter and Score take every candidate node at once, as rows of a
`NodeTable`, and answer with numpy arrays: the scheduler runs in one Python
thread, and array operations are what keep a decision near a tenth of a
millisecond on thousands of nodes.

Plugins also say which cluster changes could make a pod they rejected
schedulable (`events`), so the queue retries such a pod only then.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import numpy as np

from controlplane.scheduler.nodetable import NodeTable
from controlplane.scheduler.podinfo import PodInfo

MAX_NODE_SCORE = 100


class Code(enum.Enum):
    SUCCESS = "Success"
    UNSCHEDULABLE = "Unschedulable"                    # preemption might help
    UNRESOLVABLE = "UnschedulableAndUnresolvable"      # preemption cannot help
    ERROR = "Error"
    SKIP = "Skip"                                      # PreFilter/PreScore: this plugin has nothing to do


@dataclass(frozen=True)
class Status:
    code: Code
    reason: str = ""
    plugin: str = ""

    @property
    def rejected(self) -> bool:
        return self.code in (Code.UNSCHEDULABLE, Code.UNRESOLVABLE)


SKIP = Status(Code.SKIP)

# A reason a filter gives and the rows (bool array) it applies to.
Reasons = list[tuple[np.ndarray, str]]


@dataclass
class Rejection:
    """A filter's answer when it rules out at least one row.

    `failed` is a bool array over all rows. `reasons` says why, per row, as
    user-facing text ("Insufficient cpu"); it may be a function, called only
    when the pod fits nowhere and a FailedScheduling message is written.
    `resolvable` tells preemption whether evicting pods could help: for all
    failed rows (a bool), or per row (a bool array).
    """
    failed: np.ndarray
    reasons: Reasons | Callable[[], Reasons]
    resolvable: bool | np.ndarray = False

    def reason_list(self) -> Reasons:
        return self.reasons() if callable(self.reasons) else self.reasons


def rejection(failed: np.ndarray, reason: str, *, resolvable: bool = False) -> Rejection | None:
    """The usual one-reason Rejection, or None when no row failed."""
    if not failed.any():
        return None
    return Rejection(failed, [(failed, reason)], resolvable)


def normalize_by_max(scores: np.ndarray, *, reverse: bool = False) -> np.ndarray:
    """Scale so the highest score becomes MAX_NODE_SCORE; `reverse` makes the lowest the best."""
    top = scores.max() if len(scores) else 0
    if top <= 0:
        return np.full(len(scores), MAX_NODE_SCORE if reverse else 0, np.int64)
    scaled = scores * MAX_NODE_SCORE // top
    return MAX_NODE_SCORE - scaled if reverse else scaled


class CycleState(dict):
    """Per-attempt scratch space, keyed by plugin name: PreFilter writes, Filter reads."""


# ------------------------------------------------------------------ cluster events

class Resource(enum.Enum):
    NODE = "Node"
    ASSIGNED_POD = "AssignedPod"   # a pod bound to a node
    NAMESPACE = "Namespace"
    PERSISTENT_VOLUME_CLAIM = "PersistentVolumeClaim"
    PERSISTENT_VOLUME = "PersistentVolume"
    STORAGE_CLASS = "StorageClass"


class Action(enum.Flag):
    ADD = enum.auto()
    DELETE = enum.auto()
    UPDATE_LABELS = enum.auto()
    UPDATE_TAINTS = enum.auto()
    UPDATE_ALLOCATABLE = enum.auto()
    UPDATE_UNSCHEDULABLE = enum.auto()
    UPDATE = UPDATE_LABELS | UPDATE_TAINTS | UPDATE_ALLOCATABLE | UPDATE_UNSCHEDULABLE
    ALL = ADD | DELETE | UPDATE


@dataclass(frozen=True)
class ClusterEvent:
    """Something changed that may let waiting pods fit. `old`/`new` are messages (None if n/a)."""
    resource: Resource
    action: Action
    old: Any = None
    new: Any = None

    @property
    def label(self) -> str:
        return f"{self.resource.value}{self.action.name.title().replace('_', '')}"


# Decides whether `event` may make the rejected pod schedulable; True when unsure.
QueueingHint = Callable[[PodInfo, ClusterEvent], bool]


@dataclass(frozen=True)
class EventInterest:
    """Events of `resource` with one of `actions` may help a pod this plugin rejected.

    `only_if(pod)`, asked once when the pod is parked, narrows that to the pods
    such an event can help at all (so a burst of events does not visit every
    parked pod); `hint(pod, event)` then decides per event.
    """
    resource: Resource
    actions: Action
    hint: QueueingHint | None = None
    only_if: Callable[[PodInfo], bool] | None = None


# ------------------------------------------------------------------ extension points

class Plugin:
    """A named rule. `handle` gives access to the scheduler's cache, client and recorder."""
    name: str = ""

    def events(self) -> list[EventInterest]:
        """The cluster changes after which a pod this plugin rejected is worth retrying."""
        return []


class QueueSortPlugin(Plugin):
    def sort_key(self, pod: PodInfo, enqueued_at: float) -> tuple:
        """A key that orders waiting pods: smaller is scheduled first. Exactly one such plugin."""
        raise NotImplementedError


class PreFilterPlugin(Plugin):
    def pre_filter(self, state: CycleState, pod: PodInfo, nodes: NodeTable) -> Status | None:
        """Called once per attempt before Filter. None or SUCCESS: carry on; SKIP: this plugin's
        Filter is not needed for this pod; UNSCHEDULABLE/UNRESOLVABLE: the pod fits no node,
        with `reason` applying to every node. Whatever Filter needs goes into `state`."""
        return None


class FilterPlugin(Plugin):
    def filter(self, state: CycleState, pod: PodInfo, nodes: NodeTable) -> Rejection | None:
        """The rows that cannot run the pod, as a Rejection; None if every row can.

        Must not change anything: the same call may be repeated (preemption) and
        its result must depend only on the pod, the table and `state`."""
        raise NotImplementedError


@dataclass
class PostFilterResult:
    """A PostFilter's outcome: the node nominated for the pod (if any) and work to do afterwards."""
    nominated_node: str = ""
    message: str = ""
    action: Callable[[], Awaitable[None]] | None = None   # run by the scheduler as a task


class PostFilterPlugin(Plugin):
    def post_filter(self, state: CycleState, pod: PodInfo, nodes: NodeTable,
                    diagnosis: "Diagnosis") -> PostFilterResult | None:
        """Called when Filter left no node. May make room (preemption): decide here, and put
        the API calls in `action`, which the scheduler runs without holding up other pods."""
        raise NotImplementedError


class PreScorePlugin(Plugin):
    def pre_score(self, state: CycleState, pod: PodInfo, nodes: NodeTable, rows: np.ndarray) -> Status | None:
        """Called once per attempt before Score, with the feasible rows; SKIP drops this plugin's Score."""
        return None


class ScorePlugin(Plugin):
    def score(self, state: CycleState, pod: PodInfo, nodes: NodeTable, rows: np.ndarray) -> np.ndarray:
        """A score per row in `rows` (int64). After normalize(), scores must lie in 0..MAX_NODE_SCORE."""
        raise NotImplementedError

    def normalize(self, state: CycleState, pod: PodInfo, scores: np.ndarray) -> np.ndarray:
        """Map raw scores to 0..MAX_NODE_SCORE; the default keeps them (for scores already in range)."""
        return scores


class ReservePlugin(Plugin):
    def reserve(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        """Claim resources for the pod on `node_name` before binding starts."""
        return None

    def unreserve(self, state: CycleState, pod: PodInfo, node_name: str) -> None:
        """Undo reserve(); called when anything after it fails. Must be idempotent."""


class BindPlugin(Plugin):
    async def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        """Bind the pod; SKIP hands it to the next bind plugin. Raise or return ERROR on failure."""
        raise NotImplementedError


# ------------------------------------------------------------------ diagnosis

@dataclass
class Diagnosis:
    """Why a pod fits no node: per reason, how many nodes gave it."""
    total_nodes: int
    reasons: dict[str, int] = field(default_factory=dict)
    unschedulable_plugins: set[str] = field(default_factory=set)
    resolvable_rows: np.ndarray | None = None   # rows where only resolvable plugins said no
    pre_filter_message: str = ""
    post_filter_message: str = ""

    def message(self) -> str:
        """Kubernetes' FailedScheduling text: "0/3 nodes are available: 1 Insufficient cpu, ..."."""
        if self.total_nodes == 0:
            return "no nodes available to schedule pods"
        text = f"0/{self.total_nodes} nodes are available:"
        if self.pre_filter_message:
            text += f" {self.pre_filter_message}."
        else:
            histogram = sorted(f"{count} {reason}" for reason, count in self.reasons.items() if count)
            if histogram:
                text += " " + ", ".join(histogram) + "."
        if self.post_filter_message:
            text += " " + self.post_filter_message
        return text
