"""A StatefulSet with local-path volumes on real agents (3-node `cox local`, a dockerd per node).

Its pods start in ordinal order, each finds the others by its stable DNS name through the headless
Service (db-0.db.default.svc.cluster.local, answered by the agent's cluster DNS), each gets a claim of
its own, bound to a volume the built-in local-path provisioner made on the pod's node; the data a pod
wrote is there again when the pod is deleted and made anew (same node, same directory). Deleting the
claims releases the volumes, and the agent of each volume's node removes its directory and the volume
(reclaim policy Delete, the local-path class's).
"""
import asyncio
import pathlib

from controlplane.api.kinds import KINDS
from controlplane.api.wellknown import LOCAL_PATH_DIR_ANNOTATION
from controlplane.client.errors import NotFound
from controlplane.controllers import pods as podutil
from localcluster.images import BUSYBOX_IMAGE
from tests.e2e.workloads import exec_in_pod, running_pod
from tests.support.polling import eventually

PORT = 8080
# Writes who first made the volume (kept across pods), then serves the volume over HTTP.
COMMAND = f"[ -f /data/first ] || hostname > /data/first; exec httpd -f -p {PORT} -h /data"


def headless_service():
    return KINDS["Service"].new(metadata={"name": "db", "namespace": "default"},
                                spec={"cluster_ip": "None", "selector": {"app": "db"},
                                      "ports": [{"name": "http", "port": PORT}]})


def stateful_set(replicas: int):
    return KINDS["StatefulSet"].new(
        metadata={"name": "db", "namespace": "default"},
        spec={"replicas": replicas, "service_name": "db", "selector": {"match_labels": {"app": "db"}},
              "template": {"metadata": {"labels": {"app": "db"}}, "spec": {
                  "termination_grace_period_seconds": 1,
                  "containers": [{"name": "main", "image": BUSYBOX_IMAGE, "command": ["sh", "-c", COMMAND],
                                  "ports": [{"name": "http", "container_port": PORT}],
                                  "readiness_probe": {"tcp_socket": {"port": {"number_value": PORT}},
                                                      "period_seconds": 1},
                                  "volume_mounts": [{"name": "data", "mount_path": "/data"}]}]}},
              "volume_claim_templates": [{"metadata": {"name": "data"}, "spec": {
                  "access_modes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "64Mi"}}}}]})


async def ready(client, name):
    try:
        pod = await client.resource("Pod").get(name, namespace="default")
    except NotFound:
        return None
    return pod if podutil.is_ready(pod) and not podutil.is_deleting(pod) else None


async def test_stateful_set_pods_keep_their_names_and_data(cluster):
    async with cluster.client() as client:
        pods, claims = client.resource("Pod"), client.resource("PersistentVolumeClaim")
        volumes, sets = client.resource("PersistentVolume"), client.resource("StatefulSet")
        await client.resource("Service").create(headless_service())
        try:
            await sets.create(stateful_set(2))
            first = await eventually(lambda: ready(client, "db-0"), timeout=120, what="db-0 ready")
            second = await eventually(lambda: ready(client, "db-1"), timeout=120, what="db-1 ready")
            # OrderedReady: db-1 was made only once db-0 was ready
            became_ready = podutil.ready_condition(first).last_transition_time.seconds
            assert second.metadata.creation_timestamp.seconds >= became_ready

            # each pod has its own claim, bound to a volume on the pod's node, in that node's local-path dir
            for pod in (first, second):
                claim = await claims.get(f"data-{pod.metadata.name}", namespace="default")
                assert (claim.status.phase, claim.spec.storage_class_name) == ("Bound", "local-path")
                volume = await volumes.get(claim.spec.volume_name)
                node = await client.resource("Node").get(pod.spec.node_name)
                assert volume.spec.node_affinity.required.node_selector_terms[0].match_expressions[0].values == [
                    pod.spec.node_name]
                directory = pathlib.Path(volume.spec.host_path.path)
                assert directory.parent == pathlib.Path(node.metadata.annotations[LOCAL_PATH_DIR_ANNOTATION])
                assert (directory / "first").read_text().strip() == pod.metadata.name

            # stable network identity: db-1 reaches db-0 by its name under the headless Service
            code, out = await asyncio.to_thread(
                exec_in_pod, cluster, second,
                f"timeout 5 wget -q -O- http://db-0.db.default.svc.cluster.local:{PORT}/first")
            assert (code, out.strip()) == (0, "db-0"), out

            # db-0 deleted and made anew: same name, same node, same data
            code, out = await asyncio.to_thread(exec_in_pod, cluster, first, "echo kept > /data/marker")
            assert code == 0, out
            await pods.delete("db-0", namespace="default")

            async def replaced():
                pod = await ready(client, "db-0")
                return pod if pod is not None and pod.metadata.uid != first.metadata.uid else None
            again = await eventually(replaced, timeout=120, what="db-0 made anew and ready")
            assert again.spec.node_name == first.spec.node_name
            code, out = await asyncio.to_thread(exec_in_pod, cluster, again, "cat /data/marker /data/first")
            assert (code, out.split()) == (0, ["kept", "db-0"]), out
            kept_volumes = [(await claims.get(f"data-db-{i}", namespace="default")).spec.volume_name for i in (0, 1)]
        finally:
            await sets.delete("db", namespace="default")
            await client.resource("Service").delete("db", namespace="default")

        # the claims outlive the set; deleting them hands the volumes back, and the agents remove them
        async def pods_gone():
            listed = await pods.list(namespace="default", label_selector="app=db")
            return not listed.items
        await eventually(pods_gone, timeout=60, what="the set's pods gone")
        assert sorted(c.metadata.name for c in (await claims.list(namespace="default")).items) == [
            "data-db-0", "data-db-1"]
        directories = [pathlib.Path((await volumes.get(name)).spec.host_path.path) for name in kept_volumes]
        for i in (0, 1):
            await claims.delete(f"data-db-{i}", namespace="default")

        async def volumes_removed():
            left = {v.metadata.name for v in (await volumes.list()).items}
            return not left & set(kept_volumes)
        await eventually(volumes_removed, timeout=60, what="the released volumes removed by their nodes' agents")
        assert not any(d.exists() for d in directories)
