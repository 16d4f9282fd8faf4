"""Every node's facts as numpy columns, one row per node.

The scheduler asks the same few questions about every node for every pod:
is there room, do its labels match, are its taints tolerated. Asked of
Python objects that is a loop of thousands of iterations per pod; asked of
columns it is a handful of array operations, whose cost hardly depends on the
number of nodes. Plugins therefore answer with boolean or integer arrays over
rows, and this table is the one place that turns Node objects (and the pods
placed on them) into columns.

Rows are dense: a removed node's row is filled by the last row, so every
column is a plain `[:size]` view. Rows move only when nodes come or go;
`generation` changes then and whenever labels or taints change, so plugins
may memoize anything derived from labels and taints by generation.
"""
from __future__ import annotations

import math

import numpy as np
from google.protobuf.message import Message

from controlplane.api import quantity

_INT_COLUMNS = ("alloc_cpu", "alloc_memory", "alloc_pods",     # allocatable
                "req_cpu", "req_memory", "req_pods",            # requested by the pods placed there
                "nz_cpu", "nz_memory")                          # requested, counting non-zero defaults
_INITIAL_CAPACITY = 64
_MEMO_LIMIT = 4096

Taint = tuple[str, str, str]  # key, value, effect


class NodeTable:
    """Nodes as rows; see the module docstring."""

    alloc_cpu: np.ndarray
    alloc_memory: np.ndarray
    alloc_pods: np.ndarray
    req_cpu: np.ndarray
    req_memory: np.ndarray
    req_pods: np.ndarray
    nz_cpu: np.ndarray
    nz_memory: np.ndarray
    unschedulable: np.ndarray   # bool
    taint_group: np.ndarray     # int32: index into taint_groups

    def __init__(self):
        self.size = 0
        self.generation = 0
        self.names: list[str] = []
        self.nodes: list[Message] = []
        self.labels: list[dict[str, str]] = []
        self.row_of: dict[str, int] = {}
        # Distinct taint lists; nodes share a handful, so toleration is decided per group.
        self.taint_groups: list[tuple[Taint, ...]] = []
        self._taint_group_ids: dict[tuple[Taint, ...], int] = {}
        self._capacity = _INITIAL_CAPACITY
        self._base = {name: np.zeros(self._capacity, np.int64) for name in _INT_COLUMNS}
        self._base["unschedulable"] = np.zeros(self._capacity, bool)
        self._base["taint_group"] = np.zeros(self._capacity, np.int32)
        # Label columns, built on first use: key -> (codes per row, value -> code).
        self._label_columns: dict[str, tuple[np.ndarray, dict[str, int]]] = {}
        self._memo: dict = {}
        self._memo_generation = 0
        self._refresh_views()

    # -------------------------------------------------------------- nodes

    def set_node(self, node: Message) -> int:
        """Add or update a node; returns its row. Requests of pods placed on it stay as they were."""
        name = node.metadata.name
        row = self.row_of.get(name)
        labels = dict(node.metadata.labels)
        taints = tuple(sorted((t.key, t.value, t.effect) for t in node.spec.taints))
        if row is None:
            row = self._append(name)
            self.generation += 1
        elif labels != self.labels[row] or taints != self.taint_groups[self.taint_group[row]]:
            self.generation += 1
        self.nodes[row] = node
        self._set_labels(row, labels)
        self.taint_group[row] = self._taint_group_id(taints)
        self.unschedulable[row] = node.spec.unschedulable
        allocatable = node.status.allocatable or node.status.capacity
        self.alloc_cpu[row] = _amount(allocatable, "cpu", quantity.millicores)
        self.alloc_memory[row] = _amount(allocatable, "memory", quantity.to_int)
        self.alloc_pods[row] = _amount(allocatable, "pods", quantity.to_int)
        return row

    def remove_node(self, name: str) -> None:
        row = self.row_of.pop(name)
        last = self.size - 1
        if row != last:
            moved = self.names[last]
            for column in self._base.values():
                column[row] = column[last]
            for codes, _ in self._label_columns.values():
                codes[row] = codes[last]
            self.names[row], self.nodes[row], self.labels[row] = moved, self.nodes[last], self.labels[last]
            self.row_of[moved] = row
        for column in self._base.values():
            column[last] = 0
        for codes, _ in self._label_columns.values():
            codes[last] = -1
        self.names.pop()
        self.nodes.pop()
        self.labels.pop()
        self.size -= 1
        self.generation += 1
        self._refresh_views()

    def add_usage(self, row: int, *, cpu: int, memory: int, nz_cpu: int, nz_memory: int, sign: int = 1) -> None:
        """Count (sign 1) or uncount (sign -1) one pod's requests on a row."""
        self.req_cpu[row] += sign * cpu
        self.req_memory[row] += sign * memory
        self.req_pods[row] += sign
        self.nz_cpu[row] += sign * nz_cpu
        self.nz_memory[row] += sign * nz_memory

    def clear_usage(self, row: int) -> None:
        for name in ("req_cpu", "req_memory", "req_pods", "nz_cpu", "nz_memory"):
            getattr(self, name)[row] = 0

    # -------------------------------------------------------------- labels

    def codes(self, key: str) -> np.ndarray:
        """int32 per row: a code for the node's value of label `key`, -1 where it has none.

        Equal codes mean equal values; code_of() gives the code of a value.
        """
        column = self._label_columns.get(key)
        if column is None:
            codes = np.full(self._capacity, -1, np.int32)
            values: dict[str, int] = {}
            for row, labels in enumerate(self.labels):
                value = labels.get(key)
                if value is not None:
                    codes[row] = values.setdefault(value, len(values))
            column = self._label_columns[key] = (codes, values)
        return column[0][:self.size]

    def code_of(self, key: str, value: str) -> int:
        """The code of `value` for label `key`; -2 (matching no row) if no node has it."""
        self.codes(key)
        return self._label_columns[key][1].get(value, -2)

    def domain_count(self, key: str) -> int:
        """How many codes label `key` has handed out (an upper bound for bincount)."""
        self.codes(key)
        return len(self._label_columns[key][1])

    def values_by_code(self, key: str) -> list[str]:
        self.codes(key)
        values = self._label_columns[key][1]
        out = [""] * len(values)
        for value, code in values.items():
            out[code] = value
        return out

    def numbers(self, key: str) -> np.ndarray:
        """float per row: label `key` read as an integer, NaN where absent or not an integer (Gt/Lt)."""
        def build():
            by_code = np.array([_integer(v) for v in self.values_by_code(key)] + [math.nan], float)
            return by_code[self.codes(key)]
        return self.memo(("numbers", key), build)

    def memo(self, key, build):
        """build(), remembered under `key` until labels, taints or rows change.

        For anything plugins derive from labels and taints alone (a selector's
        matching rows, which taint groups a toleration list tolerates), which
        the many pods of one workload would otherwise each work out again.
        """
        if self._memo_generation != self.generation or len(self._memo) > _MEMO_LIMIT:
            self._memo.clear()
            self._memo_generation = self.generation
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = build()
        return found

    # -------------------------------------------------------------- internals

    def _append(self, name: str) -> int:
        if self.size == self._capacity:
            self._grow()
        row = self.size
        self.size += 1
        self.names.append(name)
        self.nodes.append(None)
        self.labels.append({})
        self.row_of[name] = row
        self._refresh_views()
        return row

    def _grow(self) -> None:
        self._capacity *= 2
        for name, column in self._base.items():
            bigger = np.zeros(self._capacity, column.dtype)
            bigger[:len(column)] = column
            self._base[name] = bigger
        for key, (codes, values) in self._label_columns.items():
            bigger = np.full(self._capacity, -1, np.int32)
            bigger[:len(codes)] = codes
            self._label_columns[key] = (bigger, values)

    def _refresh_views(self) -> None:
        for name, column in self._base.items():
            setattr(self, name, column[:self.size])

    def _set_labels(self, row: int, labels: dict[str, str]) -> None:
        old = self.labels[row]
        self.labels[row] = labels
        if old == labels:
            return
        for key, (codes, values) in self._label_columns.items():
            value = labels.get(key)
            codes[row] = -1 if value is None else values.setdefault(value, len(values))

    def _taint_group_id(self, taints: tuple[Taint, ...]) -> int:
        group = self._taint_group_ids.get(taints)
        if group is None:
            group = self._taint_group_ids[taints] = len(self.taint_groups)
            self.taint_groups.append(taints)
        return group


def _amount(resources, name: str, parse) -> int:
    try:
        return parse(resources[name]) if name in resources else 0
    except quantity.QuantityError:
        return 0


def _integer(value: str) -> float:
    try:
        return float(int(value))
    except ValueError:
        return math.nan
