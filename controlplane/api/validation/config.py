"""ConfigMaps, Secrets and ServiceAccounts: keys, sizes, secret types.

Keys become file names in volumes, so they are checked as such; the size
limit keeps one object from filling the store and the watch cache; typed
secrets must carry the keys their type promises.
"""
import json

from controlplane.api import names
from controlplane.api.errors import FieldError
from controlplane.api.validation import meta
from controlplane.api.validation.common import Errors, immutable, required_syntax, syntax

DATA_SIZE_LIMIT = 1024 * 1024  # bytes of all keys' values together, as Kubernetes

# Secret types Kubernetes defines, and the keys each must have.
SECRET_TYPE_KEYS = {
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
}
JSON_KEYS = {"kubernetes.io/dockercfg": ".dockercfg", "kubernetes.io/dockerconfigjson": ".dockerconfigjson"}
SERVICE_ACCOUNT_NAME_ANNOTATION = "kubernetes.io/service-account.name"


def _keys(path: str, mapping) -> Errors:
    for key in sorted(mapping):
        yield from syntax(path, key, names.config_key)


def _size(path: str, *mappings) -> Errors:
    size = sum(len(value) for mapping in mappings for value in mapping.values())
    if size > DATA_SIZE_LIMIT:
        yield FieldError(path, f"too long: must have at most {DATA_SIZE_LIMIT} bytes")


def _immutable_data(new, old, *fields: tuple[str, str]) -> Errors:
    """Once `immutable: true`, the data may not change and the flag may not be cleared."""
    if not old.immutable:
        return
    if not new.immutable:
        yield FieldError("immutable", "field is immutable when `immutable` is set")
    for field, json_name in fields:
        if dict(getattr(new, field)) != dict(getattr(old, field)):
            yield FieldError(json_name, "field is immutable when `immutable` is set")


# ---------------------------------------------------------------- ConfigMap

def validate_config_map(config_map) -> Errors:
    yield from meta.object_meta(config_map, names.dns_subdomain)
    yield from _keys("data", config_map.data)
    yield from _keys("binaryData", config_map.binary_data)
    for key in sorted(set(config_map.data) & set(config_map.binary_data)):
        yield FieldError(f"binaryData[{key}]", "duplicate of a key in `data`")
    yield from _size("data", config_map.data, config_map.binary_data)


def config_map_update_rules(new, old) -> Errors:
    yield from _immutable_data(new, old, ("data", "data"), ("binary_data", "binaryData"))


# ---------------------------------------------------------------- Secret

def validate_secret(secret) -> Errors:
    yield from meta.object_meta(secret, names.dns_subdomain)
    yield from _keys("data", secret.data)
    yield from _keys("stringData", secret.string_data)
    yield from _size("data", secret.data, secret.string_data)
    for key in SECRET_TYPE_KEYS.get(secret.type, ()):
        if key not in secret.data and key not in secret.string_data:
            yield FieldError(f"data[{key}]", f"required for secrets of type {secret.type}")
    json_key = JSON_KEYS.get(secret.type)
    if json_key and json_key in secret.data:
        try:
            json.loads(secret.data[json_key])
        except ValueError:
            yield FieldError(f"data[{json_key}]", "must be valid JSON")
    if secret.type == "kubernetes.io/basic-auth" and not {"username", "password"} & {*secret.data, *secret.string_data}:
        yield FieldError("data", "must have `username` or `password` for secrets of type kubernetes.io/basic-auth")
    if secret.type == "kubernetes.io/service-account-token" and \
            not secret.metadata.annotations.get(SERVICE_ACCOUNT_NAME_ANNOTATION):
        yield FieldError(f"metadata.annotations[{SERVICE_ACCOUNT_NAME_ANNOTATION}]", "required")


def secret_update_rules(new, old) -> Errors:
    yield from immutable("type", new.type, old.type)
    yield from _immutable_data(new, old, ("data", "data"))


# ---------------------------------------------------------------- ServiceAccount

def validate_service_account(account) -> Errors:
    yield from meta.object_meta(account, names.dns_subdomain)
    for index, ref in enumerate(account.secrets):
        yield from required_syntax(f"secrets[{index}].name", ref.name, names.dns_subdomain)
    for index, ref in enumerate(account.image_pull_secrets):
        yield from required_syntax(f"imagePullSecrets[{index}].name", ref.name, names.dns_subdomain)
