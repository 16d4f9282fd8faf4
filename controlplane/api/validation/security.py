"""securityContext of pods and containers: the fields coxswain maps onto Docker, checked as Kubernetes
checks them.

Sysctls are limited to Kubernetes' safe set (the only ones a kubelet allows without
--allowed-unsafe-sysctls): they are namespaced to the pod, so one pod cannot change its node. seccomp
profiles are RuntimeDefault or Unconfined; a Localhost profile (a file on the node) is refused.
"""
import re

from controlplane.api.errors import FieldError
from controlplane.api.validation.common import Errors, at_least, duplicate, one_of, optional_at_least

SECCOMP_TYPES = ("RuntimeDefault", "Unconfined")
FS_GROUP_CHANGE_POLICIES = ("Always", "OnRootMismatch")
SAFE_SYSCTLS = ("kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
                "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes")
_CAPABILITY = re.compile(r"(CAP_)?[A-Z][A-Z0-9_]*")


def _identity(path: str, context) -> Errors:
    yield from optional_at_least(context, "run_as_user", f"{path}.runAsUser", 0)
    yield from optional_at_least(context, "run_as_group", f"{path}.runAsGroup", 0)
    if context.HasField("seccomp_profile"):
        yield from one_of(f"{path}.seccompProfile.type", context.seccomp_profile.type, SECCOMP_TYPES, required=True)


def pod_security_context(path: str, context, *, host_network: bool) -> Errors:
    yield from _identity(path, context)
    yield from optional_at_least(context, "fs_group", f"{path}.fsGroup", 0)
    for index, group in enumerate(context.supplemental_groups):
        yield from at_least(f"{path}.supplementalGroups[{index}]", group, 0)
    yield from one_of(f"{path}.fsGroupChangePolicy", context.fs_group_change_policy, FS_GROUP_CHANGE_POLICIES)
    seen: set[str] = set()
    for index, sysctl in enumerate(context.sysctls):
        here = f"{path}.sysctls[{index}]"
        if sysctl.name not in SAFE_SYSCTLS:
            yield FieldError(f"{here}.name", f'sysctl "{sysctl.name}" is not in the safe set the kubelet allows '
                             f"({', '.join(SAFE_SYSCTLS)})")
        elif host_network and sysctl.name.startswith("net."):
            yield FieldError(f"{here}.name", "may not be set when `hostNetwork` is true")
        if not sysctl.value:
            yield FieldError(f"{here}.value", "required")
        yield from duplicate(f"{here}.name", sysctl.name, seen)


def container_security_context(path: str, context) -> Errors:
    yield from _identity(path, context)
    for word in ("add", "drop"):
        for index, name in enumerate(getattr(context.capabilities, word)):
            if name != "ALL" and not _CAPABILITY.fullmatch(name):
                yield FieldError(f"{path}.capabilities.{word}[{index}]",
                                 f'"{name}": a capability is an upper-case name like NET_ADMIN')
    if context.HasField("allow_privilege_escalation") and not context.allow_privilege_escalation:
        if context.privileged:
            yield FieldError(path, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true")
        if any(name in ("SYS_ADMIN", "CAP_SYS_ADMIN") for name in context.capabilities.add):
            yield FieldError(path, "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` "
                                   "CAP_SYS_ADMIN")
