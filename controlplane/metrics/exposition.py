"""The text page of a registry, in the Prometheus text format, as prometheus_client writes it.

prometheus_client's writer lives in a module that also imports its push
gateway client and HTTP and WSGI servers (http.server, urllib.request,
wsgiref: ~2 MB in every process that serves metrics). This writes the same
bytes from the same registry; tests/metrics/test_exposition.py holds the two
side by side.

The format's rules, as Prometheus parses them: each family gets `# HELP` and
`# TYPE` lines; a counter's family is named with `_total`, an info's with
`_info` (and is a gauge); the OpenMetrics-only samples of a family
(`_created`, `_gsum`, `_gcount`) follow it as gauge families of their own;
names outside the legacy character set have the other characters replaced
by `_`; label values escape backslash, newline and double quote.
"""
from __future__ import annotations

import re

from prometheus_client.registry import REGISTRY, Collector
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

CONTENT_TYPE = "text/plain; version=1.0.0; charset=utf-8"

FAMILY_SUFFIX = {"counter": "_total", "info": "_info"}
TYPE_NAMES = {"info": "gauge", "stateset": "gauge", "gaugehistogram": "histogram", "unknown": "untyped"}
SEPARATE_SAMPLES = ("_created", "_gsum", "_gcount")

_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_NOT_METRIC_RUNE = re.compile(r"[^a-zA-Z0-9_:]")
_NOT_LABEL_RUNE = re.compile(r"[^a-zA-Z0-9_]")


def page(registry: Collector = REGISTRY) -> bytes:
    """Every family the registry collects now, as one UTF-8 page."""
    lines: list[str] = []
    for family in registry.collect():
        name = family.name + FAMILY_SUFFIX.get(family.type, "")
        help_text = family.documentation.replace("\\", r"\\").replace("\n", r"\n")
        lines += _head(name, help_text, TYPE_NAMES.get(family.type, family.type))
        separate: dict[str, list[str]] = {}
        for sample in family.samples:
            suffix = sample.name[len(family.name):] if sample.name.startswith(family.name) else ""
            if suffix in SEPARATE_SAMPLES:
                separate.setdefault(suffix, []).append(_sample_line(sample))
            else:
                lines.append(_sample_line(sample))
        for suffix, samples in sorted(separate.items()):
            lines += _head(family.name + suffix, help_text, "gauge") + samples
    return "".join(lines).encode()


def _head(name: str, help_text: str, type_name: str) -> list[str]:
    name = _metric_name(name)
    return [f"# HELP {name} {help_text}\n", f"# TYPE {name} {type_name}\n"]


def _sample_line(sample: Sample) -> str:
    labels = ",".join(f'{_label_name(key)}="{_label_value(value)}"' for key, value in sorted(sample.labels.items()))
    stamp = "" if sample.timestamp is None else f" {int(float(sample.timestamp) * 1000):d}"
    return f"{_metric_name(sample.name)}{'{' + labels + '}' if labels else ''} {floatToGoString(sample.value)}{stamp}\n"


def _metric_name(name: str) -> str:
    return name if _METRIC_NAME.fullmatch(name) else _legacy(name, _NOT_METRIC_RUNE)


def _label_name(name: str) -> str:
    return name if _LABEL_NAME.fullmatch(name) else _legacy(name, _NOT_LABEL_RUNE)


def _legacy(name: str, outside: re.Pattern) -> str:
    """Each character outside the legacy set, and a leading digit, replaced by `_`."""
    name = outside.sub("_", name)
    return "_" + name[1:] if name[:1].isdigit() else name


def _label_value(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
