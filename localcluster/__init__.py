"""A multi-node cluster on one Linux machine: `cox local up --nodes 3`, `cox local down`.

Each node is a network namespace with its own dockerd and its own `cox agent`,
all plugged into one bridge that lives in a "switch" namespace of its own; the
control plane (`cox server`) runs beside them in the host's namespace, on the
address of a veth into that switch. Like kind, for trying multi-node
scheduling, Services and the pod network on a laptop, and for the end-to-end
tests. README.md in this folder has the picture and the traps.
"""
