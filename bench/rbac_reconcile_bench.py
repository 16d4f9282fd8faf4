"""What reconciling the default ClusterRoles costs a server start (authz/reconcile.py), in CPU.

    python bench/rbac_reconcile_bench.py [--rounds 100]

The pure part, `reconciled`, for every default ClusterRole against itself (a
server started again on a current store: nothing to write) and against the
role as a version before pods/proxyrules stored it (no such right, no
autoupdate annotation: one rule and the annotation to add per workload role).
CPU time (time.process_time) per start, so a busy machine does not distort it.
"""
import argparse
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from bench.table import print_table  # noqa: E402
from controlplane.apiserver.authz import policy  # noqa: E402
from controlplane.apiserver.authz.reconcile import reconciled  # noqa: E402


def _older(role):
    stored = type(role)()
    stored.CopyFrom(role)
    stored.metadata.annotations.clear()
    for rule in stored.rules:
        kept = [r for r in rule.resources if r != "pods/proxyrules"]
        del rule.resources[:]
        rule.resources.extend(kept)
    return stored


def _cpu_ms(pairs, rounds: int) -> tuple[float, int]:
    start = time.process_time()
    for _ in range(rounds):
        written = sum(reconciled(stored, expected) is not None for stored, expected in pairs)
    return (time.process_time() - start) / rounds * 1000, written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    rounds = parser.parse_args().rounds
    roles = [o for o in policy.objects() if o.DESCRIPTOR.name == "ClusterRole"]
    rows = []
    for what, pairs in (("current store", [(r, r) for r in roles]),
                        ("older store (no pods/proxyrules)", [(_older(r), r) for r in roles])):
        ms, written = _cpu_ms(pairs, rounds)
        rows.append({"stored roles": what, "roles": len(roles), "to write": written, "CPU ms per start": ms})
    print_table(rows, note="floor: a current store, nothing to write; the older store: every role gains the "
                           "annotation, the workload roles pods/proxyrules too")


if __name__ == "__main__":
    main()
