"""A labelled series' child, looked up once per label values.

prometheus_client's `labels()` checks and converts its arguments and takes a
lock on every call (about 2.5 µs); the API server asks for the same few
children (verb × resource × code) on every request and every store call, so
each is found once and kept. Children are never removed from these series, so
a kept one is always the one `labels()` would give.
"""
import functools


@functools.cache
def child(metric, *values: str):
    """`metric.labels(*values)`, remembered."""
    return metric.labels(*values)
