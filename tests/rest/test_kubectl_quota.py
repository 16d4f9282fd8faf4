"""ResourceQuota and LimitRange through the front doors users have: kubectl's generated quota piped into
`cox apply`, kubectl's 403 for a create past the quota, `kubectl get quota`'s REQUEST column, room given back
by a delete (the full `cox server`, controllers included), `cox create quota`, and a LimitRange's defaults."""
import json
import subprocess
import time

from tests.support.control_plane import cox_command, cox_env

POD = """
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  containers:
  - {{name: c, image: busybox:local}}
"""


def cox(server, *args, stdin=None, ok=True):
    run = subprocess.run(cox_command(*args, "--config", str(server.config_path)), input=stdin, capture_output=True,
                         text=True, env=cox_env(server.home), timeout=60)
    assert (run.returncode == 0) == ok, run.stdout + run.stderr
    return run


def wait_used(kubectl, namespace, name, **used):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status = kubectl.json("get", "quota", name, "-n", namespace).get("status", {})
        if all(status.get("used", {}).get(k) == v for k, v in used.items()):
            return status
        time.sleep(0.1)
    raise AssertionError(f"quota {name} never showed used {used}: {status}")


def test_kubectl_quota_applied_by_cox_refuses_with_403_and_frees_room(kubectl, namespace, server):
    manifest = kubectl("create", "quota", "q", "--hard=pods=2", "--dry-run=client", "-o", "yaml").stdout
    assert cox(server, "apply", "-n", namespace, "-f", "-", stdin=manifest).stdout.strip() == \
        "resourcequota/q created"
    wait_used(kubectl, namespace, "q", pods="0")
    for name in ("a", "b"):
        kubectl("create", "-n", namespace, "-f", "-", stdin=POD.format(name=name))
    refused = kubectl("create", "-n", namespace, "-f", "-", stdin=POD.format(name="c"), ok=False)
    assert refused.returncode == 1
    assert refused.stderr.strip().endswith(
        'Error from server (Forbidden): error when creating "STDIN": pods "c" is forbidden: '
        "exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2"), refused.stderr
    table = kubectl("get", "quota", "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "AGE", "REQUEST", "LIMIT"] and "pods: 2/2" in table[1], table

    kubectl("delete", "pod", "a", "-n", namespace, "--wait=false")
    wait_used(kubectl, namespace, "q", pods="1")
    kubectl("create", "-n", namespace, "-f", "-", stdin=POD.format(name="c"))


def test_cox_create_quota_and_limit_range_defaults(kubectl, namespace, server):
    assert cox(server, "create", "quota", "small", "--hard=configmaps=1,requests.cpu=1", "-n", namespace
               ).stdout.strip() == "resourcequota/small created"
    # kubectl's own create sends the quota as Kubernetes protobuf
    assert kubectl("create", "quota", "pods-only", "--hard=pods=5", "--scopes=NotBestEffort", "-n", namespace
                   ).stdout.strip() == "resourcequota/pods-only created"
    assert kubectl.json("get", "quota", "pods-only", "-n", namespace)["spec"] == \
        {"hard": {"pods": "5"}, "scopes": ["NotBestEffort"]}
    bad = cox(server, "create", "quota", "bad", "--hard=pods", "-n", namespace, ok=False)
    assert '--hard: "pods" is not RESOURCE=AMOUNT' in bad.stderr and "Traceback" not in bad.stderr
    wait_used(kubectl, namespace, "small", **{"requests.cpu": "0"})
    limits = {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "defaults"},
              "spec": {"limits": [{"type": "Container", "defaultRequest": {"cpu": "250m"},
                                   "default": {"cpu": "500m"}}]}}
    kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(limits))
    kubectl("get", "limitranges", "-n", namespace)   # the server's caches have it once this returns
    kubectl("create", "-n", namespace, "-f", "-", stdin=POD.format(name="defaulted"))
    pod = kubectl.json("get", "pod", "defaulted", "-n", namespace)
    assert pod["spec"]["containers"][0]["resources"] == {"requests": {"cpu": "250m"}, "limits": {"cpu": "500m"}}
    wait_used(kubectl, namespace, "small", **{"requests.cpu": "250m"})
