"""Containers: name, image, ports, env, resources, volume mounts, probes and lifecycle hooks.

Everything here is checked before the kubelet sees it, so the kubelet can
trust a stored pod: ports are in range, quantities parse, mounts name a real
volume, every probe and hook has exactly one handler. An init container may
have restartPolicy Always (a sidecar), and only a sidecar may have probes or
hooks among init containers; tcpSocket hooks are refused, as Kubernetes
deprecated them.
"""
import posixpath

from controlplane.api import names, podresources
from controlplane.api.errors import FieldError
from controlplane.api.validation import security
from controlplane.api.validation.common import (Errors, at_least, between, duplicate, exactly_one,
                                                int_or_string_port, ip_address, one_of, port_number,
                                                quantity_value, required_syntax, resource_amounts,
                                                syntax)

PULL_POLICIES = ("Always", "IfNotPresent", "Never")
PROTOCOLS = ("TCP", "UDP")
CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")
# What a downward-API fieldRef may read.
FIELD_REF_PATHS = ("metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels",
                   "metadata.annotations", "spec.nodeName", "spec.serviceAccountName",
                   "status.hostIP", "status.podIP", "status.podIPs")
VOLUME_FIELD_REF_PATHS = FIELD_REF_PATHS[:5]
RESOURCE_REF_NAMES = ("limits.cpu", "limits.memory", "limits.ephemeral-storage",
                      "requests.cpu", "requests.memory", "requests.ephemeral-storage")


def container(path: str, c, *, volumes: set[str], init: bool) -> Errors:
    yield from required_syntax(f"{path}.name", c.name, names.dns_label)
    if not c.image:
        yield FieldError(f"{path}.image", "required")
    elif c.image != c.image.strip():
        yield FieldError(f"{path}.image", "must not have leading or trailing whitespace")
    yield from one_of(f"{path}.imagePullPolicy", c.image_pull_policy, PULL_POLICIES)
    yield from one_of(f"{path}.terminationMessagePolicy", c.termination_message_policy,
                      ("File", "FallbackToLogsOnError"))
    yield from ports(f"{path}.ports", c.ports)
    for index, env in enumerate(c.env):
        yield from env_var(f"{path}.env[{index}]", env)
    for index, source in enumerate(c.env_from):
        yield from env_from(f"{path}.envFrom[{index}]", source)
    yield from resources(f"{path}.resources", c.resources)
    yield from volume_mounts(f"{path}.volumeMounts", c.volume_mounts, volumes)
    yield from security.container_security_context(f"{path}.securityContext", c.security_context)
    sidecar = init and podresources.is_sidecar(c)
    if init:
        yield from one_of(f"{path}.restartPolicy", c.restart_policy, (podresources.SIDECAR_RESTART_POLICY,))
    elif c.restart_policy:
        yield FieldError(f"{path}.restartPolicy", "may not be set for non-init containers")
    for field, json_name in (("liveness_probe", "livenessProbe"), ("readiness_probe", "readinessProbe"),
                             ("startup_probe", "startupProbe")):
        if not c.HasField(field):
            continue
        if init and not sidecar:
            yield FieldError(f"{path}.{json_name}", "may not be set for init containers without restartPolicy=Always")
        else:
            yield from probe(f"{path}.{json_name}", getattr(c, field),
                             single_success=field != "readiness_probe")
    if c.HasField("lifecycle"):
        if init and not sidecar:
            yield FieldError(f"{path}.lifecycle", "may not be set for init containers without restartPolicy=Always")
        else:
            yield from lifecycle(f"{path}.lifecycle", c.lifecycle)


def ports(path: str, container_ports) -> Errors:
    seen = set()
    for index, port in enumerate(container_ports):
        here = f"{path}[{index}]"
        if port.name:
            yield from syntax(f"{here}.name", port.name, names.port_name)
            yield from duplicate(f"{here}.name", port.name, seen, "port name")
        yield from port_number(f"{here}.containerPort", port.container_port)
        if port.host_port:
            yield from between(f"{here}.hostPort", port.host_port, 1, 65535)
        yield from one_of(f"{here}.protocol", port.protocol, PROTOCOLS)
        if port.host_ip:
            yield from ip_address(f"{here}.hostIP", port.host_ip)


def env_var(path: str, env) -> Errors:
    if not env.name:
        yield FieldError(f"{path}.name", "required")
    else:
        yield from _env_name(f"{path}.name", env.name)
    if not env.HasField("value_from"):
        return
    if env.value:
        yield FieldError(f"{path}.valueFrom", "may not be specified when `value` is not empty")
    source = env.value_from
    sources = ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef")
    yield from exactly_one(f"{path}.valueFrom", source, sources, "source")
    if source.HasField("field_ref"):
        yield from field_ref(f"{path}.valueFrom.fieldRef", source.field_ref)
    if source.HasField("resource_field_ref"):
        yield from resource_field_ref(f"{path}.valueFrom.resourceFieldRef", source.resource_field_ref)
    for field, json_name in (("config_map_key_ref", "configMapKeyRef"), ("secret_key_ref", "secretKeyRef")):
        if source.HasField(field):
            ref = getattr(source, field)
            yield from required_syntax(f"{path}.valueFrom.{json_name}.name", ref.name, names.dns_subdomain)
            yield from required_syntax(f"{path}.valueFrom.{json_name}.key", ref.key, names.config_key)


def _env_name(path: str, name: str) -> Errors:
    if "=" in name or not all(" " <= char <= "~" for char in name):
        yield FieldError(path, f'"{name}": must consist of printable ASCII characters except "="')


def field_ref(path: str, ref, *, volume: bool = False) -> Errors:
    """An env var's fieldRef, or with `volume` a downwardAPI file's: as in Kubernetes, a file may hold all
    labels or annotations (one `key="value"` line each) but no status or spec field."""
    yield from one_of(f"{path}.apiVersion", ref.api_version, ("v1",))
    base = ref.field_path.split("[", 1)[0]
    maps = ("metadata.labels", "metadata.annotations")
    allowed = VOLUME_FIELD_REF_PATHS if volume else FIELD_REF_PATHS
    keyed = ("[" in ref.field_path) == (base in maps) or (volume and base in maps)
    if not ref.field_path:
        yield FieldError(f"{path}.fieldPath", "required")
    elif base not in allowed or not keyed:
        yield FieldError(f"{path}.fieldPath", f'unsupported value "{ref.field_path}": supported values: '
                         f'{", ".join(allowed)} (labels and annotations {"also " if volume else ""}with a [key])')


def resource_field_ref(path: str, ref) -> Errors:
    yield from one_of(f"{path}.resource", ref.resource, RESOURCE_REF_NAMES, required=True)
    if ref.divisor:
        value = quantity_value(f"{path}.divisor", ref.divisor)
        if isinstance(value, FieldError):
            yield value


def env_from(path: str, source) -> Errors:
    yield from _env_name(f"{path}.prefix", source.prefix)
    yield from exactly_one(path, source, ("configMapRef", "secretRef"), "source")
    for field, json_name in (("config_map_ref", "configMapRef"), ("secret_ref", "secretRef")):
        if source.HasField(field):
            yield from required_syntax(f"{path}.{json_name}.name", getattr(source, field).name,
                                       names.dns_subdomain)


def resources(path: str, requirements) -> Errors:
    """Known names, quantities that parse and are not negative, requests no more than limits."""
    limits, requests = {}, {}
    yield from resource_amounts(f"{path}.limits", requirements.limits, CONTAINER_RESOURCES, limits)
    yield from resource_amounts(f"{path}.requests", requirements.requests, CONTAINER_RESOURCES, requests)
    for name, request in requests.items():
        if name in limits and request > limits[name]:
            yield FieldError(f"{path}.requests[{name}]", f'"{requirements.requests[name]}": must be less '
                             f'than or equal to {name} limit of "{requirements.limits[name]}"')


def volume_mounts(path: str, mounts, volumes: set[str]) -> Errors:
    mount_paths = set()
    for index, mount in enumerate(mounts):
        here = f"{path}[{index}]"
        if not mount.name:
            yield FieldError(f"{here}.name", "required")
        elif mount.name not in volumes:
            yield FieldError(f"{here}.name", f'volume "{mount.name}" not found in spec.volumes')
        if not mount.mount_path:
            yield FieldError(f"{here}.mountPath", "required")
        elif mount.mount_path in mount_paths:
            yield FieldError(f"{here}.mountPath", f'"{mount.mount_path}": must be unique')
        mount_paths.add(mount.mount_path)
        if mount.sub_path:
            yield from relative_path(f"{here}.subPath", mount.sub_path)


def relative_path(path: str, value: str) -> Errors:
    if posixpath.isabs(value):
        yield FieldError(path, f'"{value}": must be a relative path')
    elif ".." in value.split("/"):
        yield FieldError(path, f'"{value}": must not contain \'..\'')


def lifecycle(path: str, hooks) -> Errors:
    for field, json_name in (("post_start", "postStart"), ("pre_stop", "preStop")):
        if not hooks.HasField(field):
            continue
        here, handler = f"{path}.{json_name}", getattr(hooks, field)
        if handler.HasField("tcp_socket"):
            yield FieldError(f"{here}.tcpSocket", "not supported for lifecycle hooks (deprecated by Kubernetes): "
                             "use exec, httpGet or sleep")
            continue
        yield from exactly_one(here, handler, ("exec", "httpGet", "sleep"), "handler type")
        yield from _exec_and_http(here, handler)
        if handler.HasField("sleep"):
            yield from at_least(f"{here}.sleep.seconds", handler.sleep.seconds, 0)


def _exec_and_http(path: str, handler) -> Errors:
    """The exec and httpGet actions probes and hooks share."""
    if handler.HasField("exec") and not handler.exec.command:
        yield FieldError(f"{path}.exec.command", "required")
    if handler.HasField("http_get"):
        yield from int_or_string_port(f"{path}.httpGet.port", handler.http_get.port)
        yield from one_of(f"{path}.httpGet.scheme", handler.http_get.scheme, ("HTTP", "HTTPS"))


def probe(path: str, p, *, single_success: bool) -> Errors:
    yield from exactly_one(path, p, ("exec", "httpGet", "tcpSocket"), "handler type")
    yield from _exec_and_http(path, p)
    if p.HasField("tcp_socket"):
        yield from int_or_string_port(f"{path}.tcpSocket.port", p.tcp_socket.port)
    for field, json_name in (("initial_delay_seconds", "initialDelaySeconds"),
                             ("timeout_seconds", "timeoutSeconds"), ("period_seconds", "periodSeconds"),
                             ("success_threshold", "successThreshold"),
                             ("failure_threshold", "failureThreshold")):
        yield from at_least(f"{path}.{json_name}", getattr(p, field), 0)
    if single_success and p.success_threshold > 1:
        yield FieldError(f"{path}.successThreshold", "must be 1 for liveness and startup probes")
