"""securityContext on the session's real dockerd: the user and group, a read-only root, dropped capabilities,
no-new-privileges and a pod sysctl hold inside the container; runAsNonRoot stops an image that runs as root."""
from agent.kubelet.security import container_security
from agent.runtime.containers import _security
from tests.kubelet.helpers import container, until, write_pod
from tests.support.objects import pod

IMAGE = "coxswain-test/busybox:1"

# Each check exits with its own code, so a failure says which one.
CHECKS = " && ".join([
    '{ test "$(id -u)" = 1000 || exit 11; }',
    '{ test "$(id -g)" = 3000 || exit 12; }',
    '{ ! touch /written 2>/dev/null || exit 13; }',
    "{ grep -Eq 'NoNewPrivs:[[:space:]]+1' /proc/self/status || exit 14; }",
    "{ grep -Eq 'CapBnd:[[:space:]]+0+$' /proc/self/status || exit 15; }",
    '{ test "$(cat /proc/sys/net/ipv4/tcp_syncookies)" = 0 || exit 16; }',
])


async def test_the_container_runs_as_its_security_context_says(kubelet, manifests):
    write_pod(manifests, "locked", {
        "restartPolicy": "Never",
        "securityContext": {"runAsUser": 1000, "runAsGroup": 3000, "runAsNonRoot": True,
                            "sysctls": [{"name": "net.ipv4.tcp_syncookies", "value": "0"}]},
        "containers": [{"name": "c", "image": IMAGE, "command": ["sh", "-c", CHECKS],
                        "securityContext": {"readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
                                            "capabilities": {"drop": ["ALL"]},
                                            "seccompProfile": {"type": "RuntimeDefault"}}}]})
    status = await until(kubelet, "locked", lambda s: s.phase in ("Succeeded", "Failed"), what="the checks ran")
    assert container(status, "c").state.terminated.exit_code == 0


async def test_run_as_non_root_refuses_an_image_that_runs_as_root(kubelet, manifests):
    write_pod(manifests, "rooted", {
        "containers": [{"name": "c", "image": IMAGE, "command": ["sleep", "60"],
                        "securityContext": {"runAsNonRoot": True}}]})
    status = await until(kubelet, "rooted",
                         lambda s: container(s, "c").state.waiting.reason == "CreateContainerConfigError",
                         what="CreateContainerConfigError")
    assert container(status, "c").state.waiting.message == "container has runAsNonRoot and image will run as root"


def test_the_container_overrides_the_pod_and_docker_gets_only_what_is_set():
    p = pod("p", security_context={"run_as_user": 1000, "run_as_group": 3000,
                                   "seccomp_profile": {"type": "Unconfined"}})
    c = p.spec.containers[0]
    c.security_context.run_as_user = 2000
    c.security_context.capabilities.add.append("CAP_NET_ADMIN")
    c.security_context.allow_privilege_escalation = False
    security = container_security(p, c)
    assert security.user == "2000:3000" and security.cap_add == ("NET_ADMIN",) and security.no_new_privileges
    assert _security(security) == {"CapAdd": ["NET_ADMIN"], "SecurityOpt": ["no-new-privileges",
                                                                           "seccomp=unconfined"]}
    assert _security(container_security(pod("q"), pod("q").spec.containers[0])) == {}
