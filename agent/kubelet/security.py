"""A pod's securityContext in the runtime's terms (types.Security), and the kubelet's runAsNonRoot check.

A container's runAsUser, runAsGroup, runAsNonRoot and seccompProfile override the pod's. Capabilities
are Docker's names without the CAP_ prefix. Without a seccompProfile Docker's default profile applies
(as with the kubelet's --seccomp-default); Unconfined turns it off. allowPrivilegeEscalation: false is
Docker's no-new-privileges. The pod's supplementalGroups and fsGroup are supplementary groups of every
container's processes (Docker's group_add), so a non-root user can write the volumes owned by fsGroup
(volumes.py).
"""
from typing import Awaitable, Callable

from google.protobuf.message import Message

from agent.runtime.types import Security


def _effective(pod: Message, container: Message, field: str):
    """A runAs*/seccompProfile field: the container's if set, else the pod's, else None."""
    for context in (container.security_context, pod.spec.security_context):
        if context.HasField(field):
            return getattr(context, field)
    return None


def _capability(name: str) -> str:
    return name[4:] if name.startswith("CAP_") else name


def container_security(pod: Message, container: Message) -> Security:
    context = container.security_context
    user, group = _effective(pod, container, "run_as_user"), _effective(pod, container, "run_as_group")
    if user is None and group is not None:
        user_text = ""   # Docker cannot change only the group; the image's user keeps its group
    else:
        user_text = "" if user is None else f"{user}:{group}" if group is not None else str(user)
    seccomp = _effective(pod, container, "seccomp_profile")
    return Security(user=user_text, privileged=context.privileged, read_only_root=context.read_only_root_filesystem,
                    no_new_privileges=context.HasField("allow_privilege_escalation")
                    and not context.allow_privilege_escalation,
                    cap_add=tuple(_capability(c) for c in context.capabilities.add),
                    cap_drop=tuple(_capability(c) for c in context.capabilities.drop),
                    seccomp_unconfined=seccomp is not None and seccomp.type == "Unconfined",
                    groups=groups(pod))


def groups(pod: Message) -> tuple[int, ...]:
    """supplementalGroups, then fsGroup, as the kubelet hands them to the runtime."""
    context = pod.spec.security_context
    found = list(context.supplemental_groups)
    if context.HasField("fs_group") and context.fs_group not in found:
        found.append(context.fs_group)
    return tuple(found)


def sysctls(pod: Message) -> tuple[tuple[str, str], ...]:
    return tuple((s.name, s.value) for s in pod.spec.security_context.sysctls)


async def non_root_problem(pod: Message, container: Message,
                           image_user: Callable[[str], Awaitable[str]]) -> str | None:
    """Why the container may not start under runAsNonRoot (None: it may); `image_user(image)` gives
    the image's USER, asked only when runAsUser does not settle it.

    As the kubelet: a uid from runAsUser or the image must be a number other than 0; a user name
    cannot be checked and is refused.
    """
    if not _effective(pod, container, "run_as_non_root"):
        return None
    user = _effective(pod, container, "run_as_user")
    if user is not None:
        return "container's runAsUser breaks non-root policy" if user == 0 else None
    name = (await image_user(container.image)).split(":", 1)[0]
    if name in ("", "0", "root"):
        return "container has runAsNonRoot and image will run as root"
    if not name.isdigit():
        return f"container has runAsNonRoot and image has non-numeric user ({name}), cannot verify user is non-root"
    return None
