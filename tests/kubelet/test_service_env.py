"""Service variables in containers: Kubernetes' names, enableServiceLinks, the container's own env winning."""
from controlplane.api import convert
from agent.kubelet.serviceenv import service_env, visible_services
from tests.kubelet.test_config_and_volumes import IMAGE, run_and_read


def svc(name, namespace="default", cluster_ip="198.19.135.7", ports=(("", 80, "TCP"),)):
    return convert.from_manifest({
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
        "spec": {"clusterIP": cluster_ip,
                 "ports": [{"name": n, "port": p, "protocol": proto} for n, p, proto in ports]}})


def test_variables_as_kubernetes_names_them():
    env = service_env([svc("my-db", ports=(("main", 5432, "TCP"), ("metrics-port", 9187, "UDP")))])
    assert env == {
        "MY_DB_SERVICE_HOST": "198.19.135.7", "MY_DB_SERVICE_PORT": "5432",
        "MY_DB_SERVICE_PORT_MAIN": "5432", "MY_DB_SERVICE_PORT_METRICS_PORT": "9187",
        "MY_DB_PORT": "tcp://198.19.135.7:5432",
        "MY_DB_PORT_5432_TCP": "tcp://198.19.135.7:5432", "MY_DB_PORT_5432_TCP_PROTO": "tcp",
        "MY_DB_PORT_5432_TCP_PORT": "5432", "MY_DB_PORT_5432_TCP_ADDR": "198.19.135.7",
        "MY_DB_PORT_9187_UDP": "udp://198.19.135.7:9187", "MY_DB_PORT_9187_UDP_PROTO": "udp",
        "MY_DB_PORT_9187_UDP_PORT": "9187", "MY_DB_PORT_9187_UDP_ADDR": "198.19.135.7"}


def test_which_services_a_pod_sees():
    api = svc("kubernetes", cluster_ip="198.19.128.1", ports=(("https", 443, "TCP"),))
    services = [api, svc("web"), svc("web", namespace="shop", cluster_ip="198.19.136.8"),
                svc("headless", namespace="shop", cluster_ip="None"), svc("external", namespace="shop", cluster_ip=""),
                svc("other", namespace="elsewhere")]
    names = lambda found: sorted((s.metadata.namespace, s.metadata.name) for s in found)   # noqa: E731
    assert names(visible_services(services, "shop", links=True)) == [("default", "kubernetes"), ("shop", "web")]
    assert names(visible_services(services, "shop", links=False)) == [("default", "kubernetes")]
    assert names(visible_services(services, "default", links=True)) == [("default", "kubernetes"),
                                                                         ("default", "web")]
    own = svc("kubernetes", namespace="shop", cluster_ip="198.19.137.9")   # its own namespace's takes the place
    assert [s.spec.cluster_ip for s in visible_services([api, own], "shop", links=True)] == ["198.19.137.9"]


async def test_containers_get_the_services_of_their_namespace(joined, client, runtime):
    await client.resource("Service").create(svc("my-db", cluster_ip="", ports=(("pg", 5432, "TCP"),)))
    db = await client.resource("Service").get("my-db", namespace="default")
    api = await client.resource("Service").get("kubernetes", namespace="default")
    spec = {"containers": [{
        "name": "c", "image": IMAGE, "command": ["sleep", "3600"],
        "env": [{"name": "DB", "value": "$(MY_DB_SERVICE_HOST):$(MY_DB_SERVICE_PORT_PG)"},
                {"name": "MY_DB_SERVICE_PORT", "value": "mine"}]}]}
    out = await run_and_read(client, runtime, "linked", spec,
                             "echo $KUBERNETES_SERVICE_HOST $KUBERNETES_SERVICE_PORT $KUBERNETES_SERVICE_PORT_HTTPS "
                             "$KUBERNETES_PORT; echo $MY_DB_PORT_5432_TCP_ADDR $MY_DB_SERVICE_PORT; echo $DB")
    ip = db.spec.cluster_ip
    assert out.splitlines() == [f"{api.spec.cluster_ip} 443 443 tcp://{api.spec.cluster_ip}:443",
                                f"{ip} mine", f"{ip}:5432"]


async def test_without_service_links_only_the_api_service(joined, client, runtime):
    await client.resource("Service").create(svc("my-db", cluster_ip=""))
    spec = {"enableServiceLinks": False,
            "containers": [{"name": "c", "image": IMAGE, "command": ["sleep", "3600"]}]}
    api = await client.resource("Service").get("kubernetes", namespace="default")
    out = await run_and_read(client, runtime, "unlinked", spec, "env | grep -E '_SERVICE_HOST=' | sort")
    assert out.splitlines() == [f"KUBERNETES_SERVICE_HOST={api.spec.cluster_ip}"]
