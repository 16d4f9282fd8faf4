"""A container's environment, and $(VAR) expansion in env, command and args.

Order as in Kubernetes: envFrom sources first (in order, each key with its
prefix), then env (in order), later names overriding earlier ones; then the
Service variables (serviceenv.py) the container does not set itself. A value
may refer to a variable defined before it, or to a Service variable, as
$(NAME); $$ escapes a $; an unknown reference stays as written.
"""
from google.protobuf.message import Message

from agent.kubelet import downward, serviceenv, static
from agent.kubelet.objects import CONFIG_MAP, SECRET, ObjectSource, fetch_items


class ConfigError(Exception):
    """The container cannot be configured yet (reason CreateContainerConfigError)."""


async def container_env(pod: Message, container: Message, objects: ObjectSource, *,
                        pod_ip: str = "", host_ip: str = "") -> dict[str, str]:
    env: dict[str, str] = {}
    namespace = pod.metadata.namespace
    services = serviceenv.service_env(await _services(pod, objects))
    for source in container.env_from:
        if source.HasField("config_map_ref"):
            ref, what = source.config_map_ref, CONFIG_MAP
        else:
            ref, what = source.secret_ref, SECRET
        items = await fetch_items(objects, what, namespace, ref.name)
        if items is None:
            if ref.optional:
                continue
            raise ConfigError(f'{what} "{ref.name}" not found')
        for key, value in items.items():
            env[source.prefix + key] = value.decode(errors="replace")
    for var in container.env:
        if var.HasField("value_from"):
            env[var.name] = await _value_from(pod, container, var, objects, pod_ip=pod_ip, host_ip=host_ip)
        else:
            env[var.name] = expand(var.value, {**services, **env})
    return {**env, **{name: value for name, value in services.items() if name not in env}}


async def _services(pod: Message, objects: ObjectSource) -> list[Message]:
    """The Services the pod gets variables for. Until the kubelet has listed Services once, a pod
    from the API waits (its variables would be missing for good); a static pod goes on without."""
    found = await objects.services()
    if found is None:
        if static.HASH_ANNOTATION in pod.metadata.annotations:
            return []
        raise ConfigError("services have not yet been read at least once, cannot construct envvars")
    return serviceenv.visible_services(found, pod.metadata.namespace, links=not pod.spec.HasField("enable_service_links") or pod.spec.enable_service_links)


async def _value_from(pod, container, var, objects: ObjectSource, *, pod_ip: str, host_ip: str) -> str:
    source = var.value_from
    namespace = pod.metadata.namespace
    try:
        if source.HasField("field_ref"):
            return downward.field_value(pod, source.field_ref.field_path, pod_ip=pod_ip, host_ip=host_ip)
        if source.HasField("resource_field_ref"):
            ref = source.resource_field_ref
            return downward.resource_value(pod, ref.container_name or container.name, ref.resource, ref.divisor)
    except downward.FieldNotSupported as e:
        raise ConfigError(f"env {var.name}: {e}") from None
    if source.HasField("config_map_key_ref"):
        ref, what = source.config_map_key_ref, CONFIG_MAP
    else:
        ref, what = source.secret_key_ref, SECRET
    items = await fetch_items(objects, what, namespace, ref.name)
    if items is None or ref.key not in items:
        if ref.optional:
            return ""
        missing = f'{what} "{ref.name}" not found' if items is None else f'key "{ref.key}" not found in {what} "{ref.name}"'
        raise ConfigError(f"env {var.name}: {missing}")
    return items[ref.key].decode(errors="replace")


def expand(text: str, env: dict[str, str]) -> str:
    """Replace $(NAME) with env[NAME]; $$ is a literal $; unknown references stay as they are."""
    out = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "$" or i + 1 == len(text):
            out.append(char)
            i += 1
            continue
        following = text[i + 1]
        if following == "$":
            out.append("$")
            i += 2
        elif following == "(":
            close = text.find(")", i + 2)
            if close < 0:
                out.append(text[i:])
                break
            name = text[i + 2:close]
            out.append(env.get(name, text[i:close + 1]))
            i = close + 1
        else:
            out.append(char)
            i += 1
    return "".join(out)
