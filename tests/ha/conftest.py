"""Fixtures of the HA tests: a real external etcd (Debian's etcd-server)."""
import pytest

from tests.support.etcd import EtcdServer


@pytest.fixture
def etcd():
    server = EtcdServer().start()
    yield server
    server.stop()
