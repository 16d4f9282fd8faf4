"""Pods and pod specs (also inside workload templates): volumes, the spec's
own fields, and what an update may change.

A pod's spec is fixed once it exists, as in Kubernetes: the kubelet runs what
was scheduled, and only images, a shorter activeDeadlineSeconds and added
tolerations may change. Everything else needs a new pod.
"""
from controlplane.api import names
from controlplane.api.errors import FieldError
from controlplane.api.validation import containers, meta, scheduling, security
from controlplane.api.validation.common import (Errors, between, duplicate, exactly_one, ip_address,
                                                labels, one_of, optional_at_least, quantity_value,
                                                required_syntax, syntax)

RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None")
PREEMPTION_POLICIES = ("PreemptLowerPriority", "Never")
HOST_PATH_TYPES = ("DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice",
                   "BlockDevice")
VOLUME_TYPES = ("hostPath", "emptyDir", "secret", "configMap", "projected", "persistentVolumeClaim", "downwardAPI")
PROJECTION_TYPES = ("secret", "configMap", "serviceAccountToken", "downwardAPI")
MAX_FILE_MODE = 0o777


def validate_pod(pod) -> Errors:
    yield from meta.object_meta(pod, names.dns_subdomain)
    yield from pod_spec("spec", pod.spec)


def pod_spec(path: str, spec, *, claim_volumes: frozenset[str] = frozenset()) -> Errors:
    """`claim_volumes`: volumes the pod will have beyond spec.volumes (a StatefulSet's claim templates)."""
    yield from volumes(f"{path}.volumes", spec.volumes)
    volume_names = {volume.name for volume in spec.volumes} | claim_volumes
    if not spec.containers:
        yield FieldError(f"{path}.containers", "required")
    seen = set()
    for items, json_name, init in ((spec.init_containers, "initContainers", True),
                                   (spec.containers, "containers", False)):
        for index, container in enumerate(items):
            here = f"{path}.{json_name}[{index}]"
            yield from containers.container(here, container, volumes=volume_names, init=init)
            yield from duplicate(f"{here}.name", container.name, seen)
            if spec.host_network:
                yield from _host_network_ports(f"{here}.ports", container.ports)
    yield from one_of(f"{path}.restartPolicy", spec.restart_policy, RESTART_POLICIES)
    yield from one_of(f"{path}.dnsPolicy", spec.dns_policy, DNS_POLICIES)
    yield from _dns_config(f"{path}.dnsConfig", spec)
    yield from one_of(f"{path}.preemptionPolicy", spec.preemption_policy, PREEMPTION_POLICIES)
    yield from optional_at_least(spec, "termination_grace_period_seconds",
                                 f"{path}.terminationGracePeriodSeconds", 0)
    yield from optional_at_least(spec, "active_deadline_seconds", f"{path}.activeDeadlineSeconds", 1)
    yield from labels(f"{path}.nodeSelector", spec.node_selector)
    for value, json_name, rule in ((spec.node_name, "nodeName", names.dns_subdomain),
                                   (spec.service_account_name, "serviceAccountName", names.dns_subdomain),
                                   (spec.scheduler_name, "schedulerName", names.dns_subdomain),
                                   (spec.priority_class_name, "priorityClassName", names.dns_subdomain),
                                   (spec.hostname, "hostname", names.dns_label),
                                   (spec.subdomain, "subdomain", names.dns_label)):
        if value:
            yield from syntax(f"{path}.{json_name}", value, rule)
    yield from scheduling.tolerations(f"{path}.tolerations", spec.tolerations)
    if spec.HasField("affinity"):
        yield from scheduling.affinity(f"{path}.affinity", spec.affinity)
    yield from scheduling.topology_spread(f"{path}.topologySpreadConstraints", spec.topology_spread_constraints)
    yield from security.pod_security_context(f"{path}.securityContext", spec.security_context,
                                             host_network=spec.host_network)
    yield from _host_aliases(f"{path}.hostAliases", spec.host_aliases)
    for index, secret in enumerate(spec.image_pull_secrets):
        yield from required_syntax(f"{path}.imagePullSecrets[{index}].name", secret.name, names.dns_subdomain)


def _host_aliases(path: str, aliases) -> Errors:
    """Entries for the pod's /etc/hosts: an IP address and at least one DNS subdomain name."""
    for index, alias in enumerate(aliases):
        here = f"{path}[{index}]"
        if not alias.ip:
            yield FieldError(f"{here}.ip", "required")
        else:
            yield from ip_address(f"{here}.ip", alias.ip)
        if not alias.hostnames:
            yield FieldError(f"{here}.hostnames", "must list at least one hostname")
        for position, hostname in enumerate(alias.hostnames):
            yield from required_syntax(f"{here}.hostnames[{position}]", hostname, names.dns_subdomain)


def _host_network_ports(path: str, ports) -> Errors:
    for index, port in enumerate(ports):
        if port.host_port and port.host_port != port.container_port:
            yield FieldError(f"{path}[{index}].hostPort", "must match `containerPort` when `hostNetwork` is true")


def _dns_config(path: str, spec) -> Errors:
    config = spec.dns_config
    if spec.dns_policy == "None" and not config.nameservers:
        yield FieldError(f"{path}.nameservers", "must provide at least one nameserver when `dnsPolicy` is None")
    if len(config.nameservers) > 3:
        yield FieldError(f"{path}.nameservers", "must not have more than 3 nameservers")
    for index, server in enumerate(config.nameservers):
        yield from ip_address(f"{path}.nameservers[{index}]", server)
    if len(config.searches) > 32:
        yield FieldError(f"{path}.searches", "must not have more than 32 search paths")
    for index, search in enumerate(config.searches):
        yield from syntax(f"{path}.searches[{index}]", search.removesuffix("."), names.dns_subdomain)
    for index, option in enumerate(config.options):
        if not option.name:
            yield FieldError(f"{path}.options[{index}].name", "required")


# ---------------------------------------------------------------- volumes

def volumes(path: str, items) -> Errors:
    seen = set()
    for index, volume in enumerate(items):
        here = f"{path}[{index}]"
        yield from required_syntax(f"{here}.name", volume.name, names.dns_label)
        yield from duplicate(f"{here}.name", volume.name, seen)
        yield from exactly_one(here, volume, VOLUME_TYPES, "volume type")
        if volume.HasField("host_path"):
            yield from _host_path(f"{here}.hostPath", volume.host_path)
        if volume.HasField("empty_dir"):
            yield from _empty_dir(f"{here}.emptyDir", volume.empty_dir)
        if volume.HasField("secret"):
            yield from _object_files(f"{here}.secret", volume.secret, "secretName", volume.secret.secret_name)
        if volume.HasField("config_map"):
            yield from _object_files(f"{here}.configMap", volume.config_map, "name", volume.config_map.name)
        if volume.HasField("projected"):
            yield from _projected(f"{here}.projected", volume.projected)
        if volume.HasField("persistent_volume_claim"):
            yield from required_syntax(f"{here}.persistentVolumeClaim.claimName",
                                       volume.persistent_volume_claim.claim_name, names.dns_subdomain)
        if volume.HasField("downward_api"):
            source = volume.downward_api
            if source.HasField("default_mode"):
                yield from between(f"{here}.downwardAPI.defaultMode", source.default_mode, 0, MAX_FILE_MODE)
            yield from _downward_items(f"{here}.downwardAPI.items", source.items)


def _host_path(path: str, source) -> Errors:
    if not source.path:
        yield FieldError(f"{path}.path", "required")
    elif ".." in source.path.split("/"):
        yield FieldError(f"{path}.path", f'"{source.path}": must not contain \'..\'')
    yield from one_of(f"{path}.type", source.type, HOST_PATH_TYPES)


def _empty_dir(path: str, source) -> Errors:
    yield from one_of(f"{path}.medium", source.medium, ("Memory",))
    if source.size_limit:
        value = quantity_value(f"{path}.sizeLimit", source.size_limit)
        if isinstance(value, FieldError):
            yield value


def _object_files(path: str, source, name_field: str, name: str) -> Errors:
    """A secret, configMap or projection of one: the object's name, its items, the file modes."""
    yield from required_syntax(f"{path}.{name_field}", name, names.dns_subdomain)
    yield from _key_to_paths(f"{path}.items", source.items)
    if "default_mode" in source.DESCRIPTOR.fields_by_name and source.HasField("default_mode"):
        yield from between(f"{path}.defaultMode", source.default_mode, 0, MAX_FILE_MODE)


def _key_to_paths(path: str, items) -> Errors:
    for index, item in enumerate(items):
        here = f"{path}[{index}]"
        yield from required_syntax(f"{here}.key", item.key, names.config_key)
        yield from _file_path(f"{here}.path", item.path)
        if item.HasField("mode"):
            yield from between(f"{here}.mode", item.mode, 0, MAX_FILE_MODE)


def _file_path(path: str, value: str) -> Errors:
    if not value:
        yield FieldError(path, "required")
    else:
        yield from containers.relative_path(path, value)


def _projected(path: str, source) -> Errors:
    if source.HasField("default_mode"):
        yield from between(f"{path}.defaultMode", source.default_mode, 0, MAX_FILE_MODE)
    for index, projection in enumerate(source.sources):
        here = f"{path}.sources[{index}]"
        yield from exactly_one(here, projection, PROJECTION_TYPES, "projection type")
        if projection.HasField("secret"):
            yield from _object_files(f"{here}.secret", projection.secret, "name", projection.secret.name)
        if projection.HasField("config_map"):
            yield from _object_files(f"{here}.configMap", projection.config_map, "name",
                                     projection.config_map.name)
        if projection.HasField("service_account_token"):
            token = projection.service_account_token
            yield from _file_path(f"{here}.serviceAccountToken.path", token.path)
            if token.HasField("expiration_seconds"):
                yield from between(f"{here}.serviceAccountToken.expirationSeconds",
                                   token.expiration_seconds, 600, 2**31 - 1)
        yield from _downward_items(f"{here}.downwardAPI.items", projection.downward_api.items)


def _downward_items(path: str, items) -> Errors:
    """The files of a downwardAPI volume or projection: a relative path each, and one field to write."""
    for position, item in enumerate(items):
        item_path = f"{path}[{position}]"
        yield from _file_path(f"{item_path}.path", item.path)
        yield from exactly_one(item_path, item, ("fieldRef", "resourceFieldRef"), "source")
        if item.HasField("field_ref"):
            yield from containers.field_ref(f"{item_path}.fieldRef", item.field_ref, volume=True)
        if item.HasField("resource_field_ref"):
            yield from containers.resource_field_ref(f"{item_path}.resourceFieldRef", item.resource_field_ref)
            if not item.resource_field_ref.container_name:
                yield FieldError(f"{item_path}.resourceFieldRef.containerName", "required")
        if item.HasField("mode"):
            yield from between(f"{item_path}.mode", item.mode, 0, MAX_FILE_MODE)


# ---------------------------------------------------------------- updates

MUTABLE_SPEC = ("spec.containers[*].image, spec.initContainers[*].image, spec.activeDeadlineSeconds "
                "(set or shortened), spec.tolerations (additions only)")


def pod_update_rules(new, old) -> Errors:
    yield from _active_deadline_update(new.spec, old.spec)
    yield from _tolerations_update("spec.tolerations", new.spec.tolerations, old.spec.tolerations)
    # Compare the specs with the mutable fields taken from the old one: anything left differs wrongly.
    changed = type(new.spec)()
    changed.CopyFrom(new.spec)
    for new_items, old_items in ((changed.containers, old.spec.containers),
                                 (changed.init_containers, old.spec.init_containers)):
        for new_item, old_item in zip(new_items, old_items):
            new_item.image = old_item.image
    changed.ClearField("active_deadline_seconds")
    if old.spec.HasField("active_deadline_seconds"):
        changed.active_deadline_seconds = old.spec.active_deadline_seconds
    del changed.tolerations[:]
    changed.tolerations.extend(old.spec.tolerations)
    if changed != old.spec:
        yield FieldError("spec", f"pod updates may not change fields other than {MUTABLE_SPEC}")


def _active_deadline_update(new, old) -> Errors:
    if not old.HasField("active_deadline_seconds"):
        return
    path = "spec.activeDeadlineSeconds"
    if not new.HasField("active_deadline_seconds"):
        yield FieldError(path, "must not be removed once set")
    elif new.active_deadline_seconds > old.active_deadline_seconds:
        yield FieldError(path, f"must be less than or equal to the previous value {old.active_deadline_seconds}")


def _tolerations_update(path: str, new, old) -> Errors:
    """Old tolerations must stay; only a NoExecute toleration's seconds may shrink."""
    def identity(toleration):
        return toleration.key, toleration.operator, toleration.value, toleration.effect

    remaining = {identity(t): t for t in new}
    for toleration in old:
        kept = remaining.get(identity(toleration))
        if kept is None:
            yield FieldError(path, f'existing toleration "{toleration.key}" may not be removed or changed')
        elif toleration.HasField("toleration_seconds") and (
                not kept.HasField("toleration_seconds")
                or kept.toleration_seconds > toleration.toleration_seconds):
            yield FieldError(path, f'tolerationSeconds of existing toleration "{toleration.key}" may only '
                             "be decreased")
