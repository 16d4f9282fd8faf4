"""The live web dashboard: one static page and a small script, served by the API server on its REST port.

The page is only a client of the API: it reads what the caller's bearer
token may read (RBAC applies), over one multiplexed list-and-watch stream
(`feed.py`), and asks for a pod's trace (`trace.py`, `cox trace`'s
timeline). README.md has the contract.
"""
