"""Parse an EncryptionConfiguration: text in, a checked config out, nothing read or written.

Kubernetes' file shape (apiserver.config.k8s.io/v1), the subset we support:
per group of resources an ordered list of providers; the first encrypts new
writes, every one of them may decrypt what is stored. A provider we do not
have (aescbc, secretbox, kms) or a bad key is refused by its field path, so a
server never starts with a configuration it would silently half-apply.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
from typing import Collection

import yaml

from controlplane.apiserver.encryption import names


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the field."""


@dataclasses.dataclass(frozen=True)
class Key:
    name: str
    secret: bytes


@dataclasses.dataclass(frozen=True)
class ProviderSpec:
    """One provider entry: its type (names.AESGCM, ...) and its keys, the first of which encrypts."""
    type: str
    keys: tuple[Key, ...] = ()


@dataclasses.dataclass(frozen=True)
class ResourceRule:
    resources: tuple[str, ...]
    providers: tuple[ProviderSpec, ...]


@dataclasses.dataclass(frozen=True)
class EncryptionConfig:
    rules: tuple[ResourceRule, ...]

    def providers_for(self, resource: str) -> tuple[ProviderSpec, ...] | None:
        """The providers of the first rule naming `resource` (Kubernetes: the first match wins)."""
        return next((r.providers for r in self.rules if resource in r.resources), None)


def parse(text: str, *, known_resources: Collection[str]) -> EncryptionConfig:
    """Check and convert the YAML text; ConfigError naming the field otherwise."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"not YAML: {e}") from None
    doc = _mapping(doc, "", {"apiVersion", "kind", "resources"})
    if doc.get("apiVersion") != names.API_VERSION:
        raise ConfigError(f'apiVersion: must be "{names.API_VERSION}", not "{doc.get("apiVersion", "")}"')
    if doc.get("kind") != names.KIND:
        raise ConfigError(f'kind: must be "{names.KIND}", not "{doc.get("kind", "")}"')
    rules = _list(doc.get("resources"), "resources")
    parsed = tuple(_rule(rule, f"resources[{i}]", known_resources) for i, rule in enumerate(rules))
    seen: set[str] = set()
    for i, rule in enumerate(parsed):
        for resource in rule.resources:
            if resource in seen:
                raise ConfigError(f'resources[{i}].resources: "{resource}" is already named by an earlier entry')
            seen.add(resource)
    return EncryptionConfig(parsed)


def _rule(raw, path: str, known_resources: Collection[str]) -> ResourceRule:
    raw = _mapping(raw, path, {"resources", "providers"})
    resources = _list(raw.get("resources"), f"{path}.resources")
    for j, resource in enumerate(resources):
        if resource not in known_resources:
            raise ConfigError(f'{path}.resources[{j}]: unknown resource "{resource}" '
                              f'(a plural such as "secrets"; group wildcards are not supported)')
    providers = _list(raw.get("providers"), f"{path}.providers")
    return ResourceRule(tuple(resources), tuple(_provider(p, f"{path}.providers[{k}]")
                                                for k, p in enumerate(providers)))


def _provider(raw, path: str) -> ProviderSpec:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise ConfigError(f"{path}: must name exactly one provider ({', '.join(names.PROVIDERS)})")
    (kind, body), = raw.items()
    if kind not in names.PROVIDERS:
        raise ConfigError(f'{path}: unknown provider "{kind}" (supported: {", ".join(names.PROVIDERS)})')
    if kind == names.IDENTITY:
        if body not in (None, {}):
            raise ConfigError(f"{path}.identity: takes no settings")
        return ProviderSpec(names.IDENTITY)
    body = _mapping(body, f"{path}.{kind}", {"keys"})
    raw_keys = _list(body.get("keys"), f"{path}.{kind}.keys")
    keys = tuple(_key(k, f"{path}.{kind}.keys[{i}]", names.KEY_SIZES[kind]) for i, k in enumerate(raw_keys))
    if len({k.name for k in keys}) != len(keys):
        raise ConfigError(f"{path}.{kind}.keys: key names must be unique")
    return ProviderSpec(kind, keys)


def _key(raw, path: str, sizes: tuple[int, ...]) -> Key:
    raw = _mapping(raw, path, {"name", "secret"})
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{path}.name: required")
    if ":" in name:
        raise ConfigError(f'{path}.name: "{name}" must not contain ":" (it ends the stored prefix)')
    try:
        secret = base64.b64decode(str(raw.get("secret") or ""), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{path}.secret: not base64") from None
    if len(secret) not in sizes:
        raise ConfigError(f"{path}.secret: {len(secret)} bytes, must be "
                          f"{' or '.join(str(s) for s in sizes)} bytes (base64-encoded)")
    return Key(name, secret)


def _mapping(raw, path: str, allowed: set[str]) -> dict:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path or 'the file'}: must be a mapping")
    for field in raw:
        if field not in allowed:
            raise ConfigError(f"{path + '.' if path else ''}{field}: unknown field")
    return raw


def _list(raw, path: str) -> list:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{path}: required, a non-empty list")
    return raw


def render_default(secret: bytes, *, key_name: str = names.DEFAULT_KEY_NAME) -> str:
    """The configuration a server makes for itself: Secrets under one AES-GCM key, plain text still readable."""
    doc = {"apiVersion": names.API_VERSION, "kind": names.KIND,
           "resources": [{"resources": ["secrets"],
                          "providers": [{names.AESGCM: {"keys": [{"name": key_name,
                                                                  "secret": base64.b64encode(secret).decode()}]}},
                                        {names.IDENTITY: {}}]}]}
    return yaml.safe_dump(doc, sort_keys=False)
