"""What the page shows: each resource it follows, by the name the page knows it by and its REST path.

Pure data. The page's script renders these names (static/dashboard.js);
feed.py lists and watches each path for the caller.
"""
# name on the feed -> collection path (all namespaces)
FOLLOWED = {
    "nodes": "/api/v1/nodes",
    "pods": "/api/v1/pods",
    "deployments": "/apis/apps/v1/deployments",
    "statefulsets": "/apis/apps/v1/statefulsets",
    "daemonsets": "/apis/apps/v1/daemonsets",
    "jobs": "/apis/batch/v1/jobs",
    "services": "/api/v1/services",
    "endpoints": "/api/v1/endpoints",
    "events": "/api/v1/events",
    "nodemetrics": "/apis/metrics.coxswain.io/v1beta1/nodemetrics",
    "podmetrics": "/apis/metrics.coxswain.io/v1beta1/podmetrics",
}
