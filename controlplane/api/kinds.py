"""The registry of API kinds, read from the `resource` option on each message.

Everything that needs to know "what kinds exist and what are they called" asks
here: the API server (store keys, services), the client (stubs), the CLI
(`cox get po`). Nothing keeps its own list.
"""
from dataclasses import dataclass

from google.protobuf import message as _message

from controlplane.api.v1 import (apps_pb2, autoscaling_pb2, batch_pb2, coordination_pb2, core_pb2, identity_pb2,
                                 metrics_pb2, options_pb2, policy_pb2, quota_pb2, rbac_pb2, scheduling_pb2,
                                 services_pb2, storage_pb2)

_TYPE_MODULES = (core_pb2, apps_pb2, batch_pb2, coordination_pb2, scheduling_pb2, identity_pb2, rbac_pb2,
                 storage_pb2, policy_pb2, metrics_pb2, autoscaling_pb2, quota_pb2)


@dataclass(frozen=True)
class Kind:
    name: str                 # "Pod"
    api_version: str          # "v1", "apps/v1"
    plural: str               # "pods"
    namespaced: bool
    short_names: tuple[str, ...]
    message: type[_message.Message]
    list_message: type[_message.Message]
    watch_event: type[_message.Message]
    has_status: bool

    @property
    def service(self) -> str:
        """Full gRPC service name, e.g. coxswain.v1.PodService."""
        return f"coxswain.v1.{self.name}Service"

    @property
    def group(self) -> str:
        """The API group: "" for the core group (apiVersion v1), "apps" for apps/v1."""
        return self.api_version.rpartition("/")[0]

    @property
    def singular(self) -> str:
        return self.name.lower()

    def key_prefix(self, namespace: str = "") -> str:
        """Store key prefix: /registry/pods/ or /registry/pods/default/."""
        if self.namespaced and namespace:
            return f"/registry/{self.plural}/{namespace}/"
        return f"/registry/{self.plural}/"

    def key(self, namespace: str, name: str) -> str:
        if self.namespaced:
            return f"/registry/{self.plural}/{namespace}/{name}"
        return f"/registry/{self.plural}/{name}"

    def new(self, **fields) -> _message.Message:
        """A new object of this kind with apiVersion and kind filled in."""
        return self.message(api_version=self.api_version, kind=self.name, **fields)


def _discover() -> dict[str, Kind]:
    kinds = {}
    for module in _TYPE_MODULES:
        for descriptor in module.DESCRIPTOR.message_types_by_name.values():
            opts = descriptor.GetOptions()
            if not opts.HasExtension(options_pb2.resource):
                continue
            res = opts.Extensions[options_pb2.resource]
            name = descriptor.name
            kinds[name] = Kind(
                name=name,
                api_version=res.api_version,
                plural=res.plural,
                namespaced=res.namespaced,
                short_names=tuple(res.short_names),
                message=getattr(module, name),
                list_message=getattr(services_pb2, f"{name}List"),
                watch_event=getattr(services_pb2, f"{name}WatchEvent"),
                has_status="status" in descriptor.fields_by_name,
            )
    return kinds


KINDS: dict[str, Kind] = _discover()

_ALIASES: dict[str, Kind] = {}
for _kind in KINDS.values():
    for _alias in (_kind.name.lower(), _kind.plural, *_kind.short_names):
        _ALIASES[_alias] = _kind


def by_name(name: str) -> Kind:
    """Kind by its exact name ("Pod"). KeyError if unknown."""
    return KINDS[name]


def resolve(word: str) -> Kind:
    """Kind by any spelling a CLI user may type: pod, pods, po, Pod. KeyError if unknown."""
    return _ALIASES[word.lower()]


def resolve_resource(text: str) -> tuple[Kind, str]:
    """(Kind, subresource) of a resource as RBAC and kubectl write it: pods, deployments.apps, pods/log.
    ValueError says what is wrong."""
    base, _, subresource = text.partition("/")
    plural, _, group = base.partition(".")
    found = _ALIASES.get(plural.lower())
    if found is None:
        raise ValueError(f'"{text}" is not a resource this server has')
    if group and group != found.group:
        raise ValueError(f'"{text}": {found.plural} are in API group "{found.group}", not "{group}"')
    return found, subresource


def for_manifest(api_version: str, kind: str) -> Kind:
    """Kind named by a manifest's apiVersion and kind; KeyError names what is unknown."""
    found = KINDS.get(kind)
    if found is None:
        raise KeyError(f'kind "{kind}" is not supported')
    if found.api_version != api_version:
        raise KeyError(f'kind "{kind}" is served as apiVersion "{found.api_version}", not "{api_version}"')
    return found
