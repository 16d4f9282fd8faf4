"""The controller manager (kube-controller-manager's room): watch, compare, remediate.

One module per controller, all run by manager.ControllerManager in one
process over shared informers. The machinery they share: workqueue (keys,
de-duplication, back-off), base (workers over a queue), expectations (do not
act twice before the cache catches up), ownership (adopt and release by
selector), podowner (what ReplicaSet, Job, DaemonSet and StatefulSet share).
Decision rules are pure functions beside each controller (rollout.py for
Deployments, daemonplan.py for DaemonSets, statefulplan.py for StatefulSets,
volumeplan.py for volume binding and local-path provisioning, cronjob.next_run
with api/cronschedule.py for CronJobs, gcgraph.py for the garbage collector),
unit-tested without a server.
"""
