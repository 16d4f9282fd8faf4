"""`cox describe KIND [NAME...]`: each object as a page, with the Events about it.

A name that matches no object exactly describes the objects whose names
start with it (`cox describe pod web` finds web-7d4b9-x2x5q), as kubectl
does. Events are found by the object's name, namespace, kind and uid, so an
earlier object of the same name does not lend it its events.
"""
from controlplane.cli import common
from controlplane.cli.printing.describe import describe
from controlplane.client import errors


def register(sub) -> None:
    p = sub.add_parser("describe", help="show objects in detail, with their events")
    common.add_kind_arguments(p)
    common.add_namespace_options(p)
    common.add_config_option(p)
    p.set_defaults(func=run)


async def run(args) -> int:
    kind, names = common.kind_and_names([args.kind, *args.names])
    namespace = common.namespace(args) if kind.namespaced else ""
    async with common.connect(args) as client:
        resource = client.resource(kind)
        failed = False
        objects = []
        if names:
            for name in names:
                found = await _by_name_or_prefix(resource, name, namespace)
                if not found:
                    common.report(f'{kind.plural} "{name}" not found')
                    failed = True
                objects += found
        else:
            objects = list((await resource.list(namespace=namespace, label_selector=args.selector)).items)
            if not objects:
                common.report(f"no {kind.plural} found" + (f" in namespace {namespace}" if namespace else ""))
                failed = True
        pages = []
        for obj in objects:
            events = await _events(client, kind, obj)
            related = await _related(client, kind, obj)
            pages.append(describe(kind, obj, events=events, related=related))
        if pages:
            print("\n\n".join(page.rstrip("\n") for page in pages))
    return 1 if failed else 0


async def _by_name_or_prefix(resource, name: str, namespace: str) -> list:
    try:
        return [await resource.get(name, namespace=namespace)]
    except errors.NotFound:
        listed = await resource.list(namespace=namespace)
        return [o for o in listed.items if o.metadata.name.startswith(name)]


async def _events(client, kind, obj) -> list:
    meta = obj.metadata
    terms = [f"involvedObject.name={meta.name}", f"involvedObject.kind={kind.name}",
             f"involvedObject.uid={meta.uid}"]
    if kind.namespaced:
        terms.append(f"involvedObject.namespace={meta.namespace}")
    listed = await client.resource("Event").list(namespace=meta.namespace, field_selector=",".join(terms))
    return list(listed.items)


async def _related(client, kind, obj) -> dict:
    """The other objects a kind's page shows: a node's pods, a service's endpoints, a deployment's RSes,
    a daemon set's pods."""
    meta = obj.metadata
    if kind.name == "Node":
        pods = await client.resource("Pod").list(field_selector=f"spec.nodeName={meta.name}")
        try:
            requests = (await client.resource("NodeCredentialRequest").list()).items
        except errors.Forbidden:      # only admins see credentials
            requests = []
        return {"pods": list(pods.items), "credentials": [r for r in requests if r.spec.node_name == meta.name]}
    if kind.name == "Service":
        try:
            return {"endpoints": [await client.resource("Endpoints").get(meta.name, namespace=meta.namespace)]}
        except errors.NotFound:
            return {}
    if kind.name == "Deployment":
        replica_sets = await client.resource("ReplicaSet").list(namespace=meta.namespace)
        return {"replicasets": list(replica_sets.items)}
    if kind.name == "DaemonSet":
        pods = await client.resource("Pod").list(namespace=meta.namespace)
        return {"pods": list(pods.items)}
    return {}
