"""`cox set image deployment/web main=nginx:1.27 [sidecar=...]`: change container images.

`*=image` sets every container. Works on the kinds with a pod template
(Deployment, ReplicaSet) and on a Pod itself; on a Deployment the change
starts a rollout.
"""
from controlplane.cli import common, workload_args
from controlplane.cli.common import CommandError

WITH_IMAGES = ("Deployment", "ReplicaSet", "Pod")


def register(sub) -> None:
    p = sub.add_parser("set", help="change a field of an object")
    what = p.add_subparsers(dest="what", metavar="FIELD", required=True)
    image = what.add_parser("image", help="set container images",
                            usage="cox set image KIND/NAME CONTAINER=IMAGE [CONTAINER=IMAGE ...]")
    workload_args.add_common(image, kinds_help="the deployment, replicaset or pod, then CONTAINER=IMAGE ...")
    image.set_defaults(func=run_image)


def split_arguments(words: list[str]) -> tuple[list[str], dict[str, str]]:
    """(the target words, {container: image}) from `kind/name c=img ...` or `kind name c=img ...`."""
    target = [w for w in words if "=" not in w]
    images = {}
    for word in words:
        if "=" in word:
            container, _, image = word.partition("=")
            if not container or not image:
                raise CommandError(f"{word!r}: expected CONTAINER=IMAGE")
            images[container] = image
    if not images:
        raise CommandError("at least one CONTAINER=IMAGE is required")
    return target, images


def set_images(spec, images: dict[str, str]) -> None:
    """Set the images of a PodSpec's containers; CommandError naming any container it lacks."""
    containers = [*spec.init_containers, *spec.containers]
    names = {c.name for c in containers}
    missing = sorted(set(images) - names - {"*"})
    if missing:
        raise CommandError(f"unable to find container named {', '.join(repr(m) for m in missing)} "
                           f"(containers: {', '.join(sorted(names))})")
    for container in containers:
        image = images.get(container.name, images.get("*"))
        if image:
            container.image = image


async def run_image(args) -> int:
    words, images = split_arguments(args.target)
    async with common.connect(args) as client:
        api, obj = await workload_args.fetch(client, args, words, WITH_IMAGES)
        set_images(obj.spec if obj.kind == "Pod" else obj.spec.template.spec, images)
        await api.update(obj)
        print(f"{workload_args.display(obj)} image updated")
        return 0
