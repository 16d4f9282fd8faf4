"""`cox rollout status|history|undo|restart`: follow and steer a Deployment's rollout.

    cox rollout status deployment/web          # waits; exits 1 if the rollout fails (also daemonset/x)
    cox rollout history deployment/web [--revision=N]
    cox rollout undo deployment/web [--to-revision=N]
    cox rollout restart deployment/web         # also daemonset/x

History is the Deployment's ReplicaSets, one per revision. Undo copies a
revision's pod template back into the Deployment (the controller then rolls
forward to it, as a new revision); restart changes a template annotation so
every pod is replaced by a rolling update.
"""
import argparse
import asyncio
import datetime

from controlplane.api import convert
from controlplane.cli import common, durations, workload_args
from controlplane.cli.common import CommandError
from controlplane.client import errors
from controlplane.controllers import pods as podutil
from controlplane.controllers import daemonplan, rollout, statefulplan


def register(sub) -> None:
    p = sub.add_parser("rollout", help="manage the rollout of a deployment")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    status = verbs.add_parser("status", help="watch a rollout until it completes or fails")
    workload_args.add_common(status, kinds_help="the deployment or daemon set")
    status.add_argument("-w", "--watch", action=BoolFlag, default=True,
                        help="keep watching until done (--watch=false: print the status once)")
    status.add_argument("--timeout", type=durations.seconds, default=0, metavar="DURATION",
                        help="give up after this long: 90s, 5m (0: never)")
    status.set_defaults(func=run_status)
    history = verbs.add_parser("history", help="list the revisions of a deployment")
    workload_args.add_common(history, kinds_help="the deployment")
    history.add_argument("--revision", type=int, default=0, help="show the pod template of this revision")
    history.set_defaults(func=run_history)
    undo = verbs.add_parser("undo", help="roll back to an earlier revision")
    workload_args.add_common(undo, kinds_help="the deployment")
    undo.add_argument("--to-revision", type=int, default=0, help="the revision (default: the previous one)")
    undo.set_defaults(func=run_undo)
    restart = verbs.add_parser("restart", help="replace every pod of a deployment or daemon set, rolling")
    workload_args.add_common(restart, kinds_help="the deployment or daemon set")
    restart.set_defaults(func=run_restart)
    for verb, paused in (("pause", True), ("resume", False)):
        parser = verbs.add_parser(verb, help=f"{verb} a deployment's rollouts")
        workload_args.add_common(parser, kinds_help="the deployment")
        parser.set_defaults(func=run_pause, paused=paused)


class BoolFlag(argparse.Action):
    """--flag, --flag=true, --flag=false (kubectl's boolean flags)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs="?", const=True, **kwargs)

    def __call__(self, parser, namespace, value, option_string=None):
        if isinstance(value, str):
            if value.lower() not in ("true", "false"):
                parser.error(f"{option_string}: expected true or false, not {value!r}")
            value = value.lower() == "true"
        setattr(namespace, self.dest, value)


async def _deployment(client, args):
    _, d = await workload_args.fetch(client, args, args.target, ("Deployment",))
    return d


async def owned_replica_sets(client, d) -> list:
    listing = await client.resource("ReplicaSet").list(namespace=d.metadata.namespace)
    return [rs for rs in listing.items
            if (ref := podutil.controller_ref(rs)) is not None and ref.uid == d.metadata.uid]


# ---------------------------------------------------------------- status

async def run_status(args) -> int:
    async with common.connect(args) as client:
        try:
            if args.timeout:
                return await asyncio.wait_for(_follow(client, args), args.timeout)
            return await _follow(client, args)
        except asyncio.TimeoutError:
            raise CommandError("timed out waiting for the condition") from None


# What `rollout status` says of each kind it follows: (message, done), ValueError when it failed.
_STATUS = {"Deployment": rollout.rollout_message, "DaemonSet": daemonplan.rollout_message,
           "StatefulSet": statefulplan.rollout_message}


async def _follow(client, args) -> int:
    api, obj = await workload_args.fetch(client, args, args.target, tuple(_STATUS))
    last = None
    while True:
        if not _show(obj, last):
            return 0
        last = _STATUS[obj.kind](obj)[0]
        if not args.watch:
            return 0
        try:
            async for event in api.watch(
                    namespace=obj.metadata.namespace, field_selector=f"metadata.name={obj.metadata.name}",
                    resource_version=obj.metadata.resource_version):
                if event.type == "DELETED":
                    raise CommandError(f'{obj.kind.lower()} "{obj.metadata.name}" was deleted')
                if event.type in ("ADDED", "MODIFIED"):
                    obj = event.object
                    if not _show(obj, last):
                        return 0
                    last = _STATUS[obj.kind](obj)[0]
        except errors.Gone:
            _, obj = await workload_args.fetch(client, args, args.target, tuple(_STATUS))


def _show(obj, last) -> bool:
    """Print the rollout's state if it changed; False once it is done. CommandError if it failed."""
    try:
        message, done = _STATUS[obj.kind](obj)
    except ValueError as e:
        raise CommandError(str(e)) from None
    if message != last:
        print(message, flush=True)
    return not done


# ---------------------------------------------------------------- history

async def run_history(args) -> int:
    async with common.connect(args) as client:
        d = await _deployment(client, args)
        rss = sorted(await owned_replica_sets(client, d), key=rollout.revision)
        if args.revision:
            rs = next((rs for rs in rss if rollout.revision(rs) == args.revision), None)
            if rs is None:
                raise CommandError(f"unable to find the specified revision {args.revision}")
            template = rollout.rollback_template(rs)
            print(f'deployment.apps/{d.metadata.name} with revision #{args.revision}')
            print(convert.to_yaml({"Pod Template": convert.to_dict(template)}), end="")
            return 0
        print(f"deployment.apps/{d.metadata.name}")
        print(f"{'REVISION':<10}CHANGE-CAUSE")
        for rs in rss:
            if rollout.revision(rs):
                print(f"{rollout.revision(rs):<10}{rs.metadata.annotations.get(rollout.CHANGE_CAUSE, '<none>')}")
        return 0


# ---------------------------------------------------------------- undo and restart

async def run_undo(args) -> int:
    async with common.connect(args) as client:
        d = await _deployment(client, args)
        if d.spec.paused:
            raise CommandError(f'you cannot rollback a paused deployment; resume it first with '
                               f'"cox rollout resume deployment/{d.metadata.name}" and try again')
        rss = await owned_replica_sets(client, d)
        target = pick_revision(d, rss, args.to_revision)
        if rollout.templates_equal(target.spec.template, d.spec.template):
            print(f"deployment.apps/{d.metadata.name} skipped rollback (current template already matches "
                  f"revision {rollout.revision(target)})")
            return 0
        d.spec.template.CopyFrom(rollout.rollback_template(target))
        await client.resource("Deployment").update(d)   # conditional on the resourceVersion read
        print(f"deployment.apps/{d.metadata.name} rolled back")
        return 0


def pick_revision(d, rss: list, to_revision: int):
    """The ReplicaSet of `to_revision`, or of the revision before the current one (0)."""
    if to_revision:
        found = next((rs for rs in rss if rollout.revision(rs) == to_revision), None)
        if found is None:
            raise CommandError(f"unable to find the specified revision {to_revision}")
        return found
    current = rollout.revision(d)
    earlier = [rs for rs in rss if 0 < rollout.revision(rs) < current]
    if not earlier:
        raise CommandError(f'no rollout history found for deployment "{d.metadata.name}"')
    return max(earlier, key=rollout.revision)


async def run_restart(args) -> int:
    async with common.connect(args) as client:
        api, obj = await workload_args.fetch(client, args, args.target, ("Deployment", "DaemonSet"))
        if obj.kind == "Deployment" and obj.spec.paused:
            raise CommandError("can't restart paused deployment (run rollout resume first)")
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        obj.spec.template.metadata.annotations[rollout.RESTARTED_AT] = now
        await api.update(obj)
        print(f"{workload_args.display(obj)} restarted")
        return 0



async def run_pause(args) -> int:
    async with common.connect(args) as client:
        d = await _deployment(client, args)
        word = "paused" if args.paused else "resumed"
        if d.spec.paused == args.paused:
            print(f"deployment.apps/{d.metadata.name} is already {word}")
            return 0
        d.spec.paused = args.paused
        await client.resource("Deployment").update(d)
        print(f"deployment.apps/{d.metadata.name} {word}")
        return 0
