"""The syntax of names, label keys and values, as Kubernetes defines it.

Names end up in DNS (services, pods' hostnames), in store keys and in labels,
so Kubernetes restricts them; validation and selector parsing both check them
here. Each check returns the reason a string is wrong, or None when it is fine.
"""
import re

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_LABEL = re.compile(_LABEL)
_DNS_SUBDOMAIN = re.compile(rf"{_LABEL}(\.{_LABEL})*")
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_NAME_PART = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_PORT_NAME = re.compile(r"[-a-z0-9]+")
_CONFIG_KEY = re.compile(r"[-._a-zA-Z0-9]+")


def dns_label(value: str) -> str | None:
    """Namespace, container, volume and port-less names: at most 63 of [a-z0-9-]."""
    if len(value) > 63:
        return "must be no more than 63 characters"
    if not _DNS_LABEL.fullmatch(value):
        return ("must be a DNS-1123 label: lower-case letters, digits and '-', "
                "starting and ending with a letter or digit (e.g. 'my-name')")
    return None


def dns1035_label(value: str) -> str | None:
    """Service names: a DNS label that starts with a letter."""
    if len(value) > 63:
        return "must be no more than 63 characters"
    if not _DNS1035_LABEL.fullmatch(value):
        return ("must be a DNS-1035 label: lower-case letters, digits and '-', "
                "starting with a letter and ending with a letter or digit (e.g. 'my-name')")
    return None


def dns_subdomain(value: str) -> str | None:
    """Most objects' names: DNS labels joined by dots, at most 253 characters."""
    if len(value) > 253:
        return "must be no more than 253 characters"
    if not _DNS_SUBDOMAIN.fullmatch(value):
        return ("must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', "
                "starting and ending with a letter or digit (e.g. 'example.com')")
    return None


def path_segment_name(value: str) -> str | None:
    """RBAC objects' names (system:kube-scheduler has a colon): anything that is one URL path segment."""
    if value in (".", ".."):
        return f'may not be "{value}"'
    if "/" in value or "%" in value:
        return "may not contain '/' or '%'"
    return None


def qualified_name(value: str) -> str | None:
    """Label and annotation keys, taint keys, finalizers: [prefix/]name."""
    prefix, slash, name = value.rpartition("/")
    if slash and not prefix:
        return "prefix part must not be empty"
    if prefix and (problem := dns_subdomain(prefix)):
        return f"prefix part {problem}"
    if not name:
        return "name part must not be empty"
    if len(name) > 63:
        return "name part must be no more than 63 characters"
    if not _NAME_PART.fullmatch(name):
        return ("name part must consist of letters, digits, '-', '_' or '.', "
                "starting and ending with a letter or digit (e.g. 'app' or 'example.com/app')")
    return None


def label_value(value: str) -> str | None:
    """Label values: empty, or like a qualified name's name part."""
    if len(value) > 63:
        return "must be no more than 63 characters"
    if value and not _NAME_PART.fullmatch(value):
        return ("must be empty or consist of letters, digits, '-', '_' or '.', "
                "starting and ending with a letter or digit")
    return None


def port_name(value: str) -> str | None:
    """Container port names (an IANA service name): up to 15 of [a-z0-9-], with a letter."""
    if len(value) > 15:
        return "must be no more than 15 characters"
    if not _PORT_NAME.fullmatch(value):
        return "must contain only lower-case letters, digits and '-'"
    if "--" in value:
        return "must not contain consecutive '-'"
    if value.startswith("-") or value.endswith("-"):
        return "must not begin or end with '-'"
    if not any(c.isalpha() for c in value):
        return "must contain at least one letter"
    return None


def config_key(value: str) -> str | None:
    """ConfigMap and Secret keys, which become file names: [-._a-zA-Z0-9], not '.' or '..'."""
    if len(value) > 253:
        return "must be no more than 253 characters"
    if not _CONFIG_KEY.fullmatch(value):
        return "must consist of letters, digits, '-', '_' or '.'"
    if value in (".", "..") or value.startswith(".."):
        return "must not be '.' or '..' or start with '..'"
    return None
