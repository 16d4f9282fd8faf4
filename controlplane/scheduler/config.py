"""The scheduler's configuration file, a subset of Kubernetes' KubeSchedulerConfiguration.

    apiVersion: kubescheduler.config.k8s.io/v1
    kind: KubeSchedulerConfiguration
    clientConnection:
      kubeconfig: /var/lib/cox/admin.yaml      # a cox client config
    leaderElection:
      leaderElect: true
      leaseDuration: 15s
      renewDeadline: 10s
      retryPeriod: 2s
      resourceName: cox-scheduler
      resourceNamespace: kube-system
    percentageOfNodesToScore: 0                # 0: adaptive, as Kubernetes
    podInitialBackoffSeconds: 1
    podMaxBackoffSeconds: 10
    bindConcurrency: 16                        # coxswain: binds in flight at once (more: a little
                                               # more throughput, much more latency)
    profiles:
    - schedulerName: default-scheduler
      plugins:
        score:
          disabled: [{name: NodeResourcesBalancedAllocation}]
          enabled: [{name: NodeAffinity, weight: 5}]
        multiPoint:
          disabled: [{name: DefaultPreemption}]
      pluginConfig:
      - name: NodeResourcesFit
        args: {scoringStrategy: {type: MostAllocated}}

Every profile starts from the default plugins (plugins/registry.py). As in
Kubernetes, `enabled` under an extension point adds a plugin or sets its score
weight and `disabled` removes it (`"*"` removes all defaults); we keep one
plugin list per profile, so naming the extension point only matters for
readers. Unknown fields are errors that name their path.
"""
from __future__ import annotations

import dataclasses
import pathlib
import re

import yaml

from controlplane.scheduler.plugins.registry import PLUGINS, default_plugins

API_VERSION = "kubescheduler.config.k8s.io/v1"
_EXTENSION_POINTS = {"multiPoint", "queueSort", "preFilter", "filter", "postFilter", "preScore", "score",
                     "reserve", "permit", "preBind", "bind", "postBind"}


class ConfigError(ValueError):
    """A configuration the scheduler cannot use; the message names the field."""


@dataclasses.dataclass(frozen=True)
class LeaderElection:
    leader_elect: bool = True
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    resource_name: str = "cox-scheduler"
    resource_namespace: str = "kube-system"


@dataclasses.dataclass(frozen=True)
class Profile:
    scheduler_name: str = "default-scheduler"
    plugins: tuple[tuple[str, int], ...] = tuple(default_plugins())   # (name, score weight), in order
    plugin_args: dict = dataclasses.field(default_factory=dict)        # name -> keyword arguments


@dataclasses.dataclass(frozen=True)
class SchedulerConfig:
    kubeconfig: str = ""
    leader_election: LeaderElection = LeaderElection()
    percentage_of_nodes_to_score: int = 0
    pod_initial_backoff_seconds: float = 1.0
    pod_max_backoff_seconds: float = 10.0
    bind_concurrency: int = 16
    profiles: tuple[Profile, ...] = (Profile(),)


def load(path: str | pathlib.Path) -> SchedulerConfig:
    try:
        data = yaml.safe_load(pathlib.Path(path).read_text()) or {}
    except OSError as e:
        raise ConfigError(f"{path}: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    try:
        return parse(data)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None


def parse(data: dict) -> SchedulerConfig:
    _mapping(data, "")
    fields = _Fields(data, "")
    api_version = fields.take("apiVersion", str, API_VERSION)
    if api_version != API_VERSION:
        raise ConfigError(f'apiVersion: must be "{API_VERSION}"')
    if fields.take("kind", str, "KubeSchedulerConfiguration") != "KubeSchedulerConfiguration":
        raise ConfigError('kind: must be "KubeSchedulerConfiguration"')
    connection = _Fields(fields.take("clientConnection", dict, {}), "clientConnection.")
    kubeconfig = connection.take("kubeconfig", str, "")
    connection.done()
    election = _Fields(fields.take("leaderElection", dict, {}), "leaderElection.")
    default = LeaderElection()
    leader_election = LeaderElection(
        leader_elect=election.take("leaderElect", bool, default.leader_elect),
        lease_duration=election.duration("leaseDuration", default.lease_duration),
        renew_deadline=election.duration("renewDeadline", default.renew_deadline),
        retry_period=election.duration("retryPeriod", default.retry_period),
        resource_name=election.take("resourceName", str, default.resource_name),
        resource_namespace=election.take("resourceNamespace", str, default.resource_namespace))
    election.done()
    if not leader_election.lease_duration > leader_election.renew_deadline > leader_election.retry_period > 0:
        raise ConfigError("leaderElection: leaseDuration > renewDeadline > retryPeriod > 0 is required")
    percentage = fields.take("percentageOfNodesToScore", int, 0)
    if not 0 <= percentage <= 100:
        raise ConfigError("percentageOfNodesToScore: must be between 0 and 100")
    initial = fields.take("podInitialBackoffSeconds", (int, float), 1.0)
    maximum = fields.take("podMaxBackoffSeconds", (int, float), 10.0)
    if not 0 < initial <= maximum:
        raise ConfigError("podMaxBackoffSeconds: must be at least podInitialBackoffSeconds, both positive")
    concurrency = fields.take("bindConcurrency", int, 16)
    if concurrency < 1:
        raise ConfigError("bindConcurrency: must be at least 1")
    profiles = tuple(_profile(p, f"profiles[{i}].") for i, p in enumerate(fields.take("profiles", list, [{}])))
    fields.done()
    names = [p.scheduler_name for p in profiles]
    if not profiles or len(set(names)) != len(names):
        raise ConfigError("profiles: at least one, with distinct schedulerName")
    return SchedulerConfig(kubeconfig, leader_election, percentage, float(initial), float(maximum), concurrency,
                           profiles)


def _profile(data, path: str) -> Profile:
    _mapping(data, path)
    fields = _Fields(data, path)
    name = fields.take("schedulerName", str, "default-scheduler")
    plugins = dict(default_plugins())
    order = list(plugins)
    points = _Fields(fields.take("plugins", dict, {}), path + "plugins.")
    for point in _EXTENSION_POINTS:
        section = _Fields(points.take(point, dict, {}), f"{path}plugins.{point}.")
        for i, entry in enumerate(section.take("disabled", list, [])):
            plugin = _plugin_name(entry, f"{path}plugins.{point}.disabled[{i}].", allow_star=True)
            for gone in (list(plugins) if plugin == "*" else [plugin]):
                plugins.pop(gone, None)
        for i, entry in enumerate(section.take("enabled", list, [])):
            where = f"{path}plugins.{point}.enabled[{i}]."
            plugin = _plugin_name(entry, where)
            weight = entry.get("weight", plugins.get(plugin, 1))
            if not isinstance(weight, int) or weight < 0:
                raise ConfigError(f"{where}weight: must be a whole number >= 0")
            plugins[plugin] = weight
            if plugin not in order:
                order.append(plugin)
        section.done()
    points.done()
    args = {}
    for i, entry in enumerate(fields.take("pluginConfig", list, [])):
        where = f"{path}pluginConfig[{i}]."
        entry_fields = _Fields(entry if isinstance(entry, dict) else {}, where)
        plugin = entry_fields.take("name", str, "")
        if plugin not in PLUGINS:
            raise ConfigError(f"{where}name: unknown plugin {plugin!r}")
        args[plugin] = _plugin_args(plugin, entry_fields.take("args", dict, {}), where + "args.")
        entry_fields.done()
    fields.done()
    return Profile(name, tuple((p, plugins[p]) for p in order if p in plugins), args)


def _plugin_args(plugin: str, args: dict, path: str) -> dict:
    """Plugin args, camelCase as in Kubernetes, to the plugin's keyword arguments."""
    fields = _Fields(args, path)
    out = {}
    if plugin == "NodeResourcesFit":
        strategy = _Fields(fields.take("scoringStrategy", dict, {}), path + "scoringStrategy.")
        out["scoring_strategy"] = strategy.take("type", str, "LeastAllocated")
        for i, resource in enumerate(strategy.take("resources", list, [])):
            item = _Fields(resource, f"{path}scoringStrategy.resources[{i}].")
            name = item.take("name", str, "")
            if name not in ("cpu", "memory"):
                raise ConfigError(f"{path}scoringStrategy.resources[{i}].name: cpu or memory")
            out[f"{name}_weight"] = item.take("weight", int, 1)
            item.done()
        strategy.done()
    elif plugin == "DefaultPreemption":
        out["min_candidate_nodes_percentage"] = fields.take("minCandidateNodesPercentage", int, 10)
        out["min_candidate_nodes_absolute"] = fields.take("minCandidateNodesAbsolute", int, 100)
    fields.done()
    return out


def _plugin_name(entry, path: str, *, allow_star: bool = False) -> str:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise ConfigError(f"{path}name: required")
    unknown = set(entry) - {"name", "weight"}
    if unknown:
        raise ConfigError(f"{path}{sorted(unknown)[0]}: unknown field")
    name = entry["name"]
    if name not in PLUGINS and not (allow_star and name == "*"):
        raise ConfigError(f"{path}name: unknown plugin {name!r}; known: {', '.join(sorted(PLUGINS))}")
    return name


def _mapping(data, path: str) -> None:
    if not isinstance(data, dict):
        raise ConfigError(f"{path or 'configuration'}: expected a mapping")


class _Fields:
    """Take fields out of a mapping one by one; done() rejects what is left."""

    def __init__(self, data: dict, path: str):
        _mapping(data, path.rstrip("."))
        self._data = dict(data)
        self._path = path

    def take(self, name: str, kinds, default):
        if name not in self._data:
            return default
        value = self._data.pop(name)
        if not isinstance(value, kinds) or (kinds is int and isinstance(value, bool)):
            expected = kinds.__name__ if isinstance(kinds, type) else "a number"
            raise ConfigError(f"{self._path}{name}: expected {expected}, got {value!r}")
        return value

    def duration(self, name: str, default: float) -> float:
        """A Go-style duration ("15s", "500ms", "1m") or a number of seconds."""
        value = self.take(name, (str, int, float), default)
        if isinstance(value, (int, float)):
            return float(value)
        match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", value.strip())
        if not match:
            raise ConfigError(f'{self._path}{name}: "{value}" is not a duration like 15s, 500ms or 1m')
        number, unit = float(match.group(1)), match.group(2)
        return number / 1000 if unit == "ms" else number * 60 if unit == "m" else number

    def done(self) -> None:
        if self._data:
            raise ConfigError(f"{self._path}{sorted(self._data)[0]}: unknown field")
