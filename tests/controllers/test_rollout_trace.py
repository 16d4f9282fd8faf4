"""`cox trace deployment/NAME` (cli/trace_cmd.py's reads, cli/rollout_trace.py's timeline) against a real API
server, controllers and scheduler, hollow nodes running the pods: a rollout from image 1 to 2."""
from controlplane.cli import trace_cmd
from controlplane.controllers import rollout
from tests.controllers.support import active_pods, deployment, eventually
from tests.support.objects import modify


async def test_a_rollout_traces_both_replica_sets_scaling_and_the_new_pods_ready(client, manager, nodes):
    api = client.resource("Deployment")
    await api.create(deployment("web", 2, image="busybox:1", surge=1, unavailable=0))

    async def rolled_out(revision: str):
        d = await api.get("web")
        return d.metadata.annotations.get(rollout.REVISION) == revision and rollout.rollout_message(d)[1] and d
    await eventually(lambda: rolled_out("1"), timeout=30, what="revision 1 rolled out")

    def to_image_2(d):
        d.spec.template.spec.containers[0].image = "busybox:2"
    await modify(api, "web", to_image_2)
    await eventually(lambda: rolled_out("2"), timeout=30, what="revision 2 rolled out")
    new_pods = {p.metadata.name for p in await active_pods(client, label_selector="app=web")}
    rss = {rs.metadata.annotations[rollout.REVISION]: rs.metadata.name
           for rs in (await client.resource("ReplicaSet").list(namespace="default")).items}
    old, new = rss["1"], rss["2"]

    def columns(lines: list[str]) -> list[list[str]]:
        """TIME, SINCE, COMPONENT, WHAT of each row (a component may hold a space: "pod status")."""
        starts = [lines[1].index(title) for title in ("TIME", "SINCE", "COMPONENT", "WHAT")] + [None]
        return [[line[a:b].strip() for a, b in zip(starts, starts[1:])] for line in lines[2:]]

    async def traced():      # the old pods' deletions and the new pods' Ready are recorded
        lines = await trace_cmd.rollout_lines(client, "web", "default")
        whats = [s[3] for s in columns(lines)]
        done = sum(w.startswith(f"SuccessfulDelete: Deleted pod: {old}-") for w in whats) == 2 and \
            all(f"pod {name} Ready" in whats for name in new_pods)
        return done and lines
    lines = await eventually(traced, timeout=20, what="the trace showing the rollout's end")
    assert lines[0].startswith("deployment default/web revision 2: 2/2 ready, 2 updated, "), lines
    assert lines[1].split() == ["TIME", "SINCE", "COMPONENT", "WHAT"]
    steps = columns(lines)
    whats = [s[3] for s in steps]

    def at(what: str) -> int:
        return next(i for i, w in enumerate(whats) if w.startswith(what))
    assert steps[0][1] == "+0s" and whats[0] == f"Created: replicaset {old} stored (revision 1)", lines
    up_old = at(f"ScalingReplicaSet: Scaled up replica set {old} to 2")
    up_new = at(f"ScalingReplicaSet: Scaled up replica set {new} to 1")
    down_old = at(f"ScalingReplicaSet: Scaled down replica set {old} to ")
    created_new = at(f"Created: replicaset {new} stored (revision 2)")
    assert up_old < created_new < up_new < down_old, lines
    assert {s[2] for s in steps if s[3].startswith("ScalingReplicaSet")} == {"deployment-controller"}
    for name in new_pods:
        made = at(f"SuccessfulCreate: Created pod: {name}")
        scheduled, started = at(f"pod {name} scheduled to node-"), at(f"pod {name} started")
        ready = at(f"pod {name} Ready")
        assert up_new <= made < scheduled < started < ready, lines
        assert steps[started][2].startswith("kubelet (node-") and steps[ready][2] == "pod status"
    assert down_old < at(f"SuccessfulDelete: Deleted pod: {old}-"), lines
