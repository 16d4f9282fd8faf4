"""`cox run NAME --image=IMAGE [-- ARGS...]`: one pod, as `kubectl run` makes it.

The pod is labelled run=NAME (or --labels), its one container is called NAME;
words after `--` are the container's args, or its command with --command.
--port, --env, --restart, --image-pull-policy as kubectl. Attaching to the
pod (-i/-t, --rm) is not offered: cox exec into it instead.
"""
from controlplane.api import kinds
from controlplane.cli import common, generated


def register(sub) -> None:
    p = sub.add_parser("run", help="run a pod with one container")
    p.add_argument("name")
    p.add_argument("args", nargs="*", metavar="ARG", help="after --: the container's args (or command)")
    p.add_argument("--image", required=True, help="the container image")
    p.add_argument("--command", action="store_true", help="the words after -- are the command, not args")
    p.add_argument("--port", type=int, default=None, help="the port the container exposes")
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="an environment variable")
    p.add_argument("-l", "--labels", default="", help="labels: a=b,c=d (default run=NAME)")
    p.add_argument("--restart", choices=("Always", "OnFailure", "Never"), default="Always",
                   help="the pod's restartPolicy")
    p.add_argument("--image-pull-policy", choices=("Always", "IfNotPresent", "Never"), default=None)
    p.add_argument("-i", "--stdin", action="store_true", help="refused: cox run does not attach")
    p.add_argument("-t", "--tty", action="store_true", help="refused: cox run does not attach")
    generated.add_options(p)
    p.set_defaults(free_words="args", func=run)


def pod(args) -> dict:
    """The pod `cox run` makes from its options."""
    container = {"name": args.name, "image": args.image}
    if args.args:
        container["command" if args.command else "args"] = list(args.args)
    if args.port is not None:
        container["ports"] = [{"containerPort": args.port}]
    if args.env:
        container["env"] = [{"name": k, "value": v} for k, v in generated.pairs(args.env, what="--env").items()]
    if args.image_pull_policy:
        container["imagePullPolicy"] = args.image_pull_policy
    labels = generated.pairs(args.labels.split(","), what="label") if args.labels else {"run": args.name}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": args.name, "namespace": common.namespace(args), "labels": labels},
            "spec": {"containers": [container], "restartPolicy": args.restart}}


async def run(args) -> int:
    if args.stdin or args.tty:
        raise common.CommandError("cox run does not attach (-i/-t): run the pod, then cox exec -it into it")
    async with common.connect(args) as client:
        return await generated.create(client, args, kinds.by_name("Pod"), pod(args), done="created")
