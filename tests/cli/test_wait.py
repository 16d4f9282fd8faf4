"""`cox wait` against a real server: conditions, deletion and JSONPath values, with kubectl's durations."""
import time


def _pod(cox, namespace, name):
    cox("run", name, "-n", namespace, "--image=busybox:local", "--", "sleep", "3600")


async def test_wait_for_a_condition_set_while_waiting(cox, namespace, api):
    _pod(cox, namespace, "p")
    waiting = cox.popen("wait", "pod/p", "-n", namespace, "--for=condition=Ready", "--timeout=60s")
    time.sleep(1)
    pod = await api.resource("Pod").get("p", namespace=namespace)
    pod.status.conditions.add(type="Ready", status="True")
    await api.resource("Pod").update_status(pod)
    out, err = waiting.communicate(timeout=60)
    assert (waiting.returncode, out) == (0, "pod/p condition met\n"), err


def test_wait_for_jsonpath_and_delete(cox, namespace):
    _pod(cox, namespace, "q")
    assert cox("wait", "pods", "q", "-n", namespace, "--for=jsonpath={.spec.containers[0].image}=busybox:local"
               ).stdout == "pod/q condition met\n"
    assert cox("wait", "pod/q", "-n", namespace, "--for", "jsonpath=.metadata.labels.run").stdout == \
        "pod/q condition met\n"
    deleting = cox.popen("wait", "pod", "-l", "run=q", "-n", namespace, "--for=delete", "--timeout=1m")
    time.sleep(3)   # its list must come first (a selector matching nothing is an error, as in kubectl); CI's load
    cox("delete", "pod", "q", "-n", namespace, "--grace-period=0")
    out, _ = deleting.communicate(timeout=60)
    assert (deleting.returncode, out) == (0, "pod/q condition met\n")


def test_wait_times_out_naming_the_object(cox, namespace):
    _pod(cox, namespace, "r")
    started = time.monotonic()
    late = cox("wait", "pod/r", "-n", namespace, "--for=condition=Ready", "--timeout=1500ms", ok=False)
    assert (late.returncode, late.stderr) == (1, "error: timed out waiting for the condition on pods/r\n")
    assert time.monotonic() - started >= 1.5
    bad = cox("wait", "pod/r", "-n", namespace, "--for=ready", ok=False)
    assert bad.returncode == 2 and 'unrecognized condition: "ready"' in bad.stderr
    bad = cox("wait", "pod/r", "-n", namespace, "--for=delete", "--timeout=5x", ok=False)
    assert bad.returncode == 2 and 'invalid duration "5x"' in bad.stderr
    none = cox("wait", "pods", "--all", "-n", f"{namespace}-empty", "--for=delete", ok=False)
    assert (none.returncode, none.stderr) == (1, "error: no matching resources found\n")
