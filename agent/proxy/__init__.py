"""kube-proxy on nftables: Services and their ready endpoints become one nft table.

model.py holds the input types, adapter.py fills them from API objects,
render.py turns them into nft JSON (pure), changes.py finds the smallest
transaction between two states, applier.py runs `nft -j -f -`, proxier.py
drives them; conntrack.py and sink.py are the kernel side jobs around it.
README.md has the hook diagram and the table's contract.
"""
