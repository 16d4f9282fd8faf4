"""`cox wait KIND/NAME --for=condition=Ready|delete|jsonpath={.status.phase}=Running [--timeout=30s]`.

As kubectl: each named (or -l/--all selected) object is read, then watched
until the condition holds — a status condition of that type with status
True (or the value given: `condition=Ready=false`), the object gone, or a
JSONPath value equal to the one given (or present at all, with no value) —
and `pod/web condition met` is printed; past --timeout (a duration, 30s by
default) the command fails naming the object.
"""
import argparse
import asyncio
from dataclasses import dataclass

from controlplane.api import convert
from controlplane.cli import common, durations
from controlplane.cli.common import CommandError
from controlplane.cli.printing import jsonpath
from controlplane.cli.printing.formats import resource_name
from controlplane.client import errors


def register(sub) -> None:
    p = sub.add_parser("wait", help="wait until objects meet a condition, or are deleted")
    p.add_argument("words", nargs="+", metavar="KIND NAME", help="KIND NAME..., KIND/NAME..., or KIND with -l/--all")
    p.add_argument("--for", dest="condition", required=True, type=parse_condition,
                   help="condition=TYPE[=VALUE], delete, or jsonpath={PATH}[=VALUE]")
    p.add_argument("--timeout", type=durations.seconds, default=30.0, metavar="DURATION",
                   help="give up after this long (30s by default)")
    p.add_argument("-l", "--selector", default="", help="wait for every object this label selector matches")
    p.add_argument("--all", action="store_true", help="wait for every object of the kind in the namespace")
    common.add_namespace_options(p, all_namespaces=False)
    common.add_config_option(p)
    p.set_defaults(free_words="words", func=run)


@dataclass(frozen=True)
class Condition:
    """What --for asks: `what` is condition, delete or jsonpath."""

    what: str
    key: str = ""
    value: str | None = None

    def met(self, data: dict | None) -> bool:
        """Whether the object (its JSON, None once deleted) meets the condition."""
        if self.what == "delete" or data is None:
            return self.what == "delete" and data is None
        if self.what == "condition":
            conditions = (data.get("status") or {}).get("conditions") or []
            return any(c.get("type", "").lower() == self.key.lower()
                       and c.get("status", "").lower() == (self.value or "true").lower() for c in conditions)
        found = jsonpath.find(self.key, data)
        if self.value is None:
            return bool(found)
        return any(jsonpath.text(v) == self.value for v in found)


def parse_condition(text: str) -> Condition:
    what, _, rest = text.partition("=")
    if what == "delete" and not rest:
        return Condition("delete")
    if what == "condition" and rest:
        key, sep, value = rest.partition("=")
        return Condition("condition", key, value if sep else None)
    if what == "jsonpath" and rest:
        if rest.startswith("{"):
            end = rest.find("}")
            path, tail = rest[:end + 1], rest[end + 1:]
        else:
            path, tail = rest.partition("=")[0], rest[len(rest.partition("=")[0]):]
        if tail and not tail.startswith("="):
            raise argparse.ArgumentTypeError(f'jsonpath wait format must be --for=jsonpath={{.field}}=value: "{text}"')
        try:
            template = jsonpath.relaxed(path)
            jsonpath.find(template, {})
        except jsonpath.JSONPathError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
        return Condition("jsonpath", template, tail[1:] if tail else None)
    raise argparse.ArgumentTypeError(
        f'unrecognized condition: "{text}" (use condition=TYPE[=VALUE], delete, or jsonpath={{PATH}}[=VALUE])')


async def run(args) -> int:
    async with common.connect(args) as client:
        targets = await common.objects_named(client, args.words, args)
        if not targets:
            raise CommandError("no matching resources found")
        deadline = asyncio.get_running_loop().time() + args.timeout
        for kind, namespace, name in targets:
            remaining = max(0.0, deadline - asyncio.get_running_loop().time())
            try:
                await asyncio.wait_for(_until(client.resource(kind), namespace, name, args.condition), remaining)
            except (asyncio.TimeoutError, TimeoutError):
                raise CommandError(f"timed out waiting for the condition on {kind.plural}/{name}") from None
            print(f"{resource_name(kind, name)} condition met", flush=True)
    return 0


async def _until(resource, namespace: str, name: str, condition: Condition) -> None:
    while True:
        try:
            obj = await resource.get(name, namespace=namespace)
        except errors.NotFound:
            if condition.what == "delete":
                return
            raise CommandError(f'{resource.kind.plural} "{name}" not found') from None
        if condition.met(convert.to_dict(obj)):
            return
        try:
            async for event in resource.watch(namespace=namespace, field_selector=f"metadata.name={name}",
                                              resource_version=obj.metadata.resource_version):
                if condition.met(None if event.type == "DELETED" else convert.to_dict(event.object)):
                    return
        except errors.Gone:
            continue  # the revision was compacted: read again
