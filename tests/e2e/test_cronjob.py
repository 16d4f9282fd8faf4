"""A CronJob on real agents: kubectl's own manifest, applied unchanged with `cox apply`, runs on its
schedule (every minute) and each run's pod runs to completion in a node's dockerd.

The manifest is tests/api/testdata/cronjob.yaml, made by
`kubectl create cronjob x --image=busybox:local --schedule='*/1 * * * *' --dry-run=client -o yaml
-- sh -c 'date; echo ran'`.
"""
import asyncio
import pathlib
import subprocess
import time

from controlplane.api.kinds import KINDS
from controlplane.controllers.job import COMPLETE, finished_condition
from tests.support.control_plane import cox_command
from tests.support.polling import eventually

MANIFEST = pathlib.Path(__file__).parents[1] / "api" / "testdata" / "cronjob.yaml"


async def test_a_kubectl_made_cron_job_runs_on_schedule(cluster, tmp_path):
    namespace = f"cron-{int(time.time())}"
    async with cluster.client() as client:
        await client.resource("Namespace").create(KINDS["Namespace"].new(metadata={"name": namespace}))
        try:
            applied = await asyncio.to_thread(
                subprocess.run, cox_command("apply", "-f", str(MANIFEST), "-n", namespace,
                                            "--config", str(cluster.info.config)),
                capture_output=True, text=True, timeout=60)
            assert (applied.returncode, applied.stdout) == (0, "cronjob.batch/x created\n"), applied.stderr
            jobs, cron_jobs = client.resource("Job"), client.resource("CronJob")

            async def completed_runs():
                listed = (await jobs.list(namespace=namespace)).items
                return [j for j in listed if (c := finished_condition(j)) is not None and c.type == COMPLETE]
            # The first scheduled time is within a minute; its pod then runs on a node.
            (run, *_) = await eventually(completed_runs, timeout=150, interval=1, what="a completed scheduled run")
            scheduled = int(run.metadata.name.rsplit("-", 1)[1]) * 60
            assert scheduled % 60 == 0 and run.metadata.owner_references[0].kind == "CronJob"
            pods = (await client.resource("Pod").list(namespace=namespace,
                                                      label_selector=f"job-name={run.metadata.name}")).items
            assert [p.status.phase for p in pods] == ["Succeeded"] and pods[0].spec.node_name in cluster.nodes
            cj = await eventually(lambda: _with_success(cron_jobs, namespace), timeout=30, what="lastSuccessfulTime")
            assert cj.status.last_schedule_time.seconds >= scheduled
            assert cj.status.last_successful_time.seconds >= run.status.start_time.seconds
        finally:
            await client.resource("Namespace").delete(namespace)


async def _with_success(cron_jobs, namespace):
    cj = await cron_jobs.get("x", namespace=namespace)
    return cj if cj.status.HasField("last_successful_time") else None
