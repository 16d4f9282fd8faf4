"""kube-proxy on nftables: Services and their ready endpoints become one nft table.

model.py holds the input types, adapter.py fills them from API objects,
render.py turns them into nft commands (pure), changes.py finds the smallest
transaction between two states, applier.py puts a transaction into the kernel
as one netlink batch (nlencode.py encodes it, nfsocket.py sends it), proxier.py
drives them; conntrack.py and sink.py are the kernel side jobs around it.
README.md has the hook diagram, the table's contract and the measurements.
"""
