"""`cox server` runs the controller manager beside the API server."""
import asyncio

from controlplane.api.kinds import KINDS
from tests.support.control_plane import ServerProcess


async def test_server_process_runs_the_controllers(tmp_path):
    server = ServerProcess(tmp_path / "data").start()
    try:
        async with server.client() as client:
            deployment = KINDS["Deployment"].new(metadata={"name": "web"}, spec={
                "replicas": 3, "selector": {"match_labels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                             "spec": {"containers": [{"name": "c", "image": "busybox"}]}}})
            await client.resource("Deployment").create(deployment)
            for _ in range(200):
                pods = (await client.resource("Pod").list(namespace="default", label_selector="app=web")).items
                accounts = (await client.resource("ServiceAccount").list(namespace="default")).items
                if len(pods) == 3 and accounts:
                    break
                await asyncio.sleep(0.05)
            assert len(pods) == 3 and all(p.metadata.owner_references[0].kind == "ReplicaSet" for p in pods)
            assert [a.metadata.name for a in accounts] == ["default"]
            events = (await client.resource("Event").list(namespace="default")).items
            assert any(e.source.component == "deployment-controller" for e in events)
    finally:
        server.stop()
