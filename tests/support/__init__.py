"""Helpers shared by tests and benchmarks: real servers, daemons and namespaces, started and torn down."""
