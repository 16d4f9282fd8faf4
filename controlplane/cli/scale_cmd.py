"""`cox scale deployment/web --replicas=5`: set a workload's replica count.

--current-replicas makes the change conditional (it fails if someone else
changed the count first), as kubectl's does.
"""
from controlplane.cli import common, workload_args
from controlplane.cli.common import CommandError

SCALABLE = ("Deployment", "ReplicaSet")


def register(sub) -> None:
    p = sub.add_parser("scale", help="set the number of replicas of a deployment or replicaset")
    workload_args.add_common(p, kinds_help="the deployment or replicaset")
    p.add_argument("--replicas", type=int, required=True, help="the new number of replicas")
    p.add_argument("--current-replicas", type=int, default=-1,
                   help="only scale if the current number of replicas is this")
    p.set_defaults(func=run)


async def run(args) -> int:
    if args.replicas < 0:
        raise CommandError("--replicas: must be 0 or more")
    async with common.connect(args) as client:
        api, obj = await workload_args.fetch(client, args, args.target, SCALABLE)
        if args.current_replicas >= 0 and obj.spec.replicas != args.current_replicas:
            raise CommandError(f"expected {args.current_replicas} replicas, found {obj.spec.replicas}")
        obj.spec.replicas = args.replicas
        await api.update(obj)
        print(f"{workload_args.display(obj)} scaled")
        return 0
