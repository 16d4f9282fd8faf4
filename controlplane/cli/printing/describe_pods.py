"""describe for pods, and the pod template section workloads share."""
from controlplane.cli.printing.age import is_set
from controlplane.cli.printing.page import NONE, Page, timestamp


def pod(page: Page, pod, related: dict, now: float) -> None:
    meta, spec, status = pod.metadata, pod.spec, pod.status
    page.add("Name", meta.name)
    page.add("Namespace", meta.namespace)
    page.add("Priority", spec.priority)
    if spec.priority_class_name:
        page.add("Priority Class Name", spec.priority_class_name)
    page.add("Service Account", spec.service_account_name or NONE)
    page.add("Node", f"{spec.node_name}/{status.host_ip}" if status.host_ip else spec.node_name or NONE)
    if is_set(status.start_time):
        page.add("Start Time", timestamp(status.start_time))
    page.mapping("Labels", meta.labels)
    page.mapping("Annotations", meta.annotations)
    if meta.HasField("deletion_timestamp"):
        page.add("Status", f"Terminating (lasts until {timestamp(meta.deletion_timestamp)})")
        page.add("Termination Grace Period", f"{meta.deletion_grace_period_seconds}s")
    else:
        page.add("Status", status.phase)
    if status.reason:
        page.add("Reason", status.reason)
    if status.message:
        page.add("Message", status.message)
    page.add("IP", status.pod_ip)
    if status.pod_ips:
        page.add("IPs")
        for ip in status.pod_ips:
            page.add("IP", ip.ip, level=1)
    else:
        page.add("IPs", NONE)
    controller = next((ref for ref in meta.owner_references if ref.controller), None)
    if controller:
        page.add("Controlled By", f"{controller.kind}/{controller.name}")
    if spec.init_containers:
        containers(page, "Init Containers", spec.init_containers, status.init_container_statuses)
    containers(page, "Containers", spec.containers, status.container_statuses)
    if status.conditions:
        page.add("Conditions")
        page.table(["Type", "Status"], [[c.type, c.status] for c in status.conditions], rule=False)
    volumes(page, spec.volumes)
    page.add("QoS Class", status.qos_class or NONE)
    page.mapping("Node-Selectors", spec.node_selector)
    page.values("Tolerations", [toleration(t) for t in spec.tolerations])


def pod_template(page: Page, template, *, level: int = 0) -> None:
    """The Pod Template section of deployments, replica sets and jobs."""
    page.add("Pod Template", level=level)
    page.mapping("Labels", template.metadata.labels, level=level + 1)
    if template.spec.service_account_name:
        page.add("Service Account", template.spec.service_account_name, level=level + 1)
    if template.spec.init_containers:
        containers(page, "Init Containers", template.spec.init_containers, (), level=level + 1)
    containers(page, "Containers", template.spec.containers, (), level=level + 1)
    volumes(page, template.spec.volumes, level=level + 1)
    page.mapping("Node-Selectors", template.spec.node_selector, level=level + 1)
    page.values("Tolerations", [toleration(t) for t in template.spec.tolerations], level=level + 1)


def containers(page: Page, label: str, specs, statuses, *, level: int = 0) -> None:
    page.add(label, level=level)
    by_name = {s.name: s for s in statuses}
    for container in specs:
        _container(page, container, by_name.get(container.name), level + 1)


def _container(page: Page, container, status, level: int) -> None:
    page.add(container.name, level=level)
    inner = level + 1
    if status is not None:
        page.add("Container ID", status.container_id, level=inner)
    page.add("Image", container.image, level=inner)
    if status is not None:
        page.add("Image ID", status.image_id, level=inner)
    ports = [f"{p.container_port}/{p.protocol or 'TCP'}" for p in container.ports]
    host_ports = [f"{p.host_port}/{p.protocol or 'TCP'}" for p in container.ports]
    plural = "s" if len(ports) > 1 else ""
    page.add(f"Port{plural}", ", ".join(ports) or NONE, level=inner)
    page.add(f"Host Port{plural}", ", ".join(host_ports) or NONE, level=inner)
    for label, words in (("Command", container.command), ("Args", container.args)):
        if words:
            page.add(label, level=inner)
            for word in words:
                page.text(word, level=inner + 1)
    if status is not None:
        _state(page, "State", status.state, inner)
        if status.last_state.ListFields():
            _state(page, "Last State", status.last_state, inner)
        page.add("Ready", "True" if status.ready else "False", level=inner)
        page.add("Restart Count", status.restart_count, level=inner)
    for label, amounts in (("Limits", container.resources.limits), ("Requests", container.resources.requests)):
        if amounts:
            page.add(label, level=inner)
            for name in sorted(amounts):
                page.add(name, amounts[name], level=inner + 1)
    for label, probe in (("Liveness", container.liveness_probe), ("Readiness", container.readiness_probe),
                         ("Startup", container.startup_probe)):
        if probe.ListFields():
            page.add(label, probe_text(probe), level=inner)
    _environment(page, container, inner)
    page.values("Mounts", [_mount(m) for m in container.volume_mounts], level=inner)


def _state(page: Page, label: str, state, level: int) -> None:
    if state.HasField("running"):
        page.add(label, "Running", level=level)
        page.add("Started", timestamp(state.running.started_at), level=level + 1)
    elif state.HasField("terminated"):
        ended = state.terminated
        page.add(label, "Terminated", level=level)
        page.add("Reason", ended.reason, level=level + 1)
        if ended.message:
            page.add("Message", ended.message, level=level + 1)
        page.add("Exit Code", ended.exit_code, level=level + 1)
        if ended.signal:
            page.add("Signal", ended.signal, level=level + 1)
        page.add("Started", timestamp(ended.started_at), level=level + 1)
        page.add("Finished", timestamp(ended.finished_at), level=level + 1)
    elif state.HasField("waiting"):
        page.add(label, "Waiting", level=level)
        page.add("Reason", state.waiting.reason, level=level + 1)
        if state.waiting.message:
            page.add("Message", state.waiting.message, level=level + 1)
    else:
        page.add(label, "Waiting", level=level)


def probe_text(probe) -> str:
    """http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3"""
    if probe.HasField("http_get"):
        get = probe.http_get
        action = (f"http-get {(get.scheme or 'HTTP').lower()}://{get.host}:{port_text(get.port)}"
                  f"{get.path}")
    elif probe.HasField("tcp_socket"):
        action = f"tcp-socket {probe.tcp_socket.host}:{port_text(probe.tcp_socket.port)}"
    else:
        action = f"exec [{' '.join(probe.exec.command)}]"
    return (f"{action} delay={probe.initial_delay_seconds}s timeout={probe.timeout_seconds}s "
            f"period={probe.period_seconds}s #success={probe.success_threshold} "
            f"#failure={probe.failure_threshold}")


def port_text(value) -> str:
    """An IntOrString port (google.protobuf.Value) as text."""
    if value.WhichOneof("kind") == "string_value":
        return value.string_value
    return str(int(value.number_value))


def _environment(page: Page, container, level: int) -> None:
    if container.env_from:
        page.add("Environment Variables from", level=level)
        for source in container.env_from:
            ref, what = ((source.config_map_ref, "ConfigMap") if source.HasField("config_map_ref")
                         else (source.secret_ref, "Secret"))
            prefix = f" with prefix '{source.prefix}'" if source.prefix else ""
            page.add(ref.name, f"{what}{prefix}  Optional: {_bool(ref.optional)}", level=level + 1)
    if not container.env:
        page.add("Environment", NONE, level=level)
        return
    page.add("Environment", level=level)
    for var in container.env:
        page.add(var.name, _env_value(var), level=level + 1)


def _env_value(var) -> str:
    source = var.value_from
    if source.HasField("field_ref"):
        return f"({source.field_ref.api_version or 'v1'}:{source.field_ref.field_path})"
    if source.HasField("resource_field_ref"):
        ref = source.resource_field_ref
        return f"{ref.resource} ({ref.container_name})" if ref.container_name else ref.resource
    if source.HasField("config_map_key_ref"):
        ref = source.config_map_key_ref
        return f"<set to the key '{ref.key}' of config map '{ref.name}'>  Optional: {_bool(ref.optional)}"
    if source.HasField("secret_key_ref"):
        ref = source.secret_key_ref
        return f"<set to the key '{ref.key}' in secret '{ref.name}'>  Optional: {_bool(ref.optional)}"
    return var.value


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _mount(mount) -> str:
    flags = "ro" if mount.read_only else "rw"
    if mount.sub_path:
        flags += f',path="{mount.sub_path}"'
    return f"{mount.mount_path} from {mount.name} ({flags})"


def volumes(page: Page, specs, *, level: int = 0) -> None:
    if not specs:
        page.add("Volumes", NONE, level=level)
        return
    page.add("Volumes", level=level)
    for volume in specs:
        page.add(volume.name, level=level + 1)
        inner = level + 2
        if volume.HasField("empty_dir"):
            page.add("Type", "EmptyDir (a temporary directory that shares a pod's lifetime)", level=inner)
            page.add("Medium", volume.empty_dir.medium, level=inner)
            page.add("SizeLimit", volume.empty_dir.size_limit or "<unset>", level=inner)
        elif volume.HasField("host_path"):
            page.add("Type", "HostPath (bare host directory volume)", level=inner)
            page.add("Path", volume.host_path.path, level=inner)
            page.add("HostPathType", volume.host_path.type, level=inner)
        elif volume.HasField("config_map"):
            page.add("Type", "ConfigMap (a volume populated by a ConfigMap)", level=inner)
            page.add("Name", volume.config_map.name, level=inner)
            page.add("Optional", _bool(volume.config_map.optional), level=inner)
        elif volume.HasField("secret"):
            page.add("Type", "Secret (a volume populated by a Secret)", level=inner)
            page.add("SecretName", volume.secret.secret_name, level=inner)
            page.add("Optional", _bool(volume.secret.optional), level=inner)
        elif volume.HasField("projected"):
            page.add("Type", "Projected (a volume that contains injected data from multiple sources)",
                     level=inner)
        elif volume.HasField("downward_api"):
            page.add("Type", "DownwardAPI (a volume populated by information about the pod)", level=inner)
            page.add("Items", level=inner)
            for item in volume.downward_api.items:
                source = item.field_ref.field_path or item.resource_field_ref.resource
                page.text(f"{source} -> {item.path}", level=inner + 1)


def toleration(t) -> str:
    """node.kubernetes.io/not-ready:NoExecute op=Exists for 300s"""
    text = t.key + (f"={t.value}" if t.value else "") + (f":{t.effect}" if t.effect else "")
    if t.operator == "Exists" and not t.value:
        text += " op=Exists" if text else "op=Exists"
    if t.HasField("toleration_seconds"):
        text += f" for {t.toleration_seconds}s"
    return text
