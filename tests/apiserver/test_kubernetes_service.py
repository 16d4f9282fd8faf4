"""Service default/kubernetes: made and kept by the API servers, one Endpoints address per live server."""
import ipaddress

import pytest
from cryptography import x509

from controlplane.api.kinds import KINDS
from controlplane.apiserver import tls
from controlplane.apiserver.advertise import advertise_address, default_route_address
from controlplane.apiserver.kubernetesservice import IDENTITY, IDENTITY_LABEL, LEASE_NAMESPACE
from controlplane.client.errors import NotFound
from tests.support.control_plane import admin_client, running_apiserver
from tests.support.etcd import EtcdServer
from tests.support.polling import eventually

# Addresses only written into Endpoints: no traffic goes to them in these tests.
A, B, GONE = "198.18.200.11", "198.18.200.12", "198.18.200.13"


async def endpoints(client) -> list[tuple[str, int]]:
    try:
        eps = await client.resource("Endpoints").get("kubernetes", namespace="default")
    except NotFound:
        return []
    return sorted((a.ip, p.port) for s in eps.subsets for a in s.addresses for p in s.ports)


def serving_names(data_dir) -> set[str]:
    cert = x509.load_pem_x509_certificate((data_dir / "tls" / "server.crt").read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(n.value) for n in sans}


async def test_the_service_its_endpoints_and_the_servers_lease(tmp_path):
    async with running_apiserver(tmp_path / "data", advertise_address=A) as server, admin_client(server) as client:
        svc = await client.resource("Service").get("kubernetes", namespace="default")
        assert svc.spec.cluster_ip == "10.96.0.1" and svc.spec.type == "ClusterIP" and not svc.spec.selector
        assert [(p.name, p.port, p.protocol, p.target_port.number_value) for p in svc.spec.ports] == \
            [("https", 443, "TCP", server.port)]
        assert dict(svc.metadata.labels) == {"component": "apiserver", "provider": "kubernetes"}
        assert await endpoints(client) == [(A, server.port)]
        leases = (await client.resource("Lease").list(namespace=LEASE_NAMESPACE,
                                                      label_selector=f"{IDENTITY_LABEL}={IDENTITY}")).items
        assert [lease.spec.holder_identity for lease in leases] == [f"{A}:{server.port}"]
        names = serving_names(tmp_path / "data")
        assert {"kubernetes", "kubernetes.default", "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local", "10.96.0.1", A} <= names


async def test_a_deleted_or_altered_service_is_put_back(tmp_path):
    async with running_apiserver(tmp_path / "data", advertise_address=A) as server, admin_client(server) as client:
        services = client.resource("Service")
        await services.delete("kubernetes", namespace="default")

        async def recreated():
            try:
                return await services.get("kubernetes", namespace="default")
            except NotFound:
                return None
        svc = await eventually(recreated, timeout=10, what="the Service made again")
        assert svc.spec.cluster_ip == "10.96.0.1"
        assert await eventually(lambda: endpoints(client), timeout=10) == [(A, server.port)]

        svc.spec.selector["app"] = "mine"
        svc.spec.ports[0].port = 8443
        await services.update(svc)

        async def repaired():
            found = await services.get("kubernetes", namespace="default")
            return not found.spec.selector and [p.port for p in found.spec.ports] == [443]
        await eventually(repaired, timeout=10, what="the Service put back")

        eps = await client.resource("Endpoints").get("kubernetes", namespace="default")
        eps.subsets[0].addresses[0].ip = GONE
        await client.resource("Endpoints").update(eps)
        await eventually(lambda: _equals(endpoints(client), [(A, server.port)]), timeout=10,
                         what="the Endpoints put back")


async def _equals(awaitable, expected) -> bool:
    return await awaitable == expected


@pytest.fixture
def etcd():
    server = EtcdServer().start()
    yield server
    server.stop()


async def test_each_live_server_is_an_endpoint_and_leaves_on_stop(tmp_path, etcd):
    async with running_apiserver(tmp_path / "a", datastore=etcd.url, advertise_address=A) as a, \
            admin_client(a) as client:
        async with running_apiserver(tmp_path / "b", datastore=etcd.url, advertise_address=B) as b:
            both = sorted([(A, a.port), (B, b.port)])
            await eventually(lambda: _equals(endpoints(client), both), timeout=10, what="both servers")
        # b stopped cleanly: its address goes at once, with its Lease.
        assert await endpoints(client) == [(A, a.port)]
        holders = [lease.spec.holder_identity for lease in (await client.resource("Lease").list(
            namespace=LEASE_NAMESPACE)).items]
        assert holders == [f"{A}:{a.port}"]


async def test_a_server_gone_without_stopping_drops_out_when_its_lease_expires(tmp_path):
    """The Lease of a server that crashed is left behind, last renewed long ago (written here as it left it)."""
    async with running_apiserver(tmp_path / "data", advertise_address=A, endpoint_reconcile_seconds=0.3) as server, \
            admin_client(server) as client:
        stale = KINDS["Lease"].new(metadata={"name": "apiserver-crashed", "namespace": LEASE_NAMESPACE,
                                             "labels": {IDENTITY_LABEL: IDENTITY}},
                                   spec={"holder_identity": f"{GONE}:6443", "lease_duration_seconds": 4})
        stale.spec.renew_time.GetCurrentTime()
        await client.resource("Lease").create(stale)
        await eventually(lambda: _equals(endpoints(client), [(A, server.port), (GONE, 6443)]), timeout=10,
                         what="the other server listed while its Lease is fresh")
        await eventually(lambda: _equals(endpoints(client), [(A, server.port)]), timeout=10,
                         what="the crashed server gone once its Lease expired")

        async def lease_deleted():
            try:
                await client.resource("Lease").get("apiserver-crashed", namespace=LEASE_NAMESPACE)
            except NotFound:
                return True
            return False
        await eventually(lease_deleted, timeout=10, what="the expired Lease deleted")


async def test_an_existing_certificate_gains_the_in_cluster_names_with_the_same_ca(tmp_path):
    data = tmp_path / "data"
    ca_before, _, _ = tls.ensure_serving_cert(data / "tls", ["localhost", "127.0.0.1"])   # an older server's
    assert "kubernetes.default.svc" not in serving_names(data)
    async with running_apiserver(data, advertise_address=A):
        pass
    assert (data / "tls" / "ca.crt").read_bytes() == ca_before
    assert {"kubernetes.default.svc", "10.96.0.1", "localhost"} <= serving_names(data)
    assert x509.load_pem_x509_certificate((data / "tls" / "server.crt").read_bytes()).issuer == \
        x509.load_pem_x509_certificate(ca_before).subject


def test_the_advertised_address_defaults_as_kube_apiserver_chooses_it():
    assert advertise_address("198.18.0.1") == "198.18.0.1"
    assert advertise_address("0.0.0.0", given="198.18.0.9") == "198.18.0.9"
    assert advertise_address("127.0.0.1") == advertise_address("0.0.0.0") == default_route_address()
    found = default_route_address()
    assert found == "" or not ipaddress.ip_address(found).is_loopback


def test_no_default_route_advertises_nothing(tmp_path):
    routes = tmp_path / "route"
    routes.write_text("Iface\tDestination\tGateway\tFlags\n"
                      "lo\t0000007F\t00000000\t0001\n")
    assert default_route_address(str(routes)) == ""
