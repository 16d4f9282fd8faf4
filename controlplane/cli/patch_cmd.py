"""`cox patch KIND NAME -p PATCH [--type strategic|merge|json]`: change fields of an object in place.

The patch is JSON or YAML, given with -p or --patch-file, applied as
kubectl's three patch types by controlplane/api/patch.py (the same code the
REST API's PATCH uses): strategic merge (the default; lists of containers,
ports, env... merge by their key), JSON merge (RFC 7386) or JSON patch
(RFC 6902).
"""
import pathlib

import yaml

from controlplane.api import patch
from controlplane.cli import common, object_change
from controlplane.cli.common import CommandError
from controlplane.cli.printing.formats import resource_name

TYPES = ("strategic", "merge", "json")


def register(sub) -> None:
    p = sub.add_parser("patch", help="change fields of objects with a strategic, merge or JSON patch")
    p.add_argument("words", nargs="+", metavar="KIND NAME", help="KIND NAME... or KIND/NAME...")
    p.add_argument("-p", "--patch", default=None, help="the patch, as JSON or YAML")
    p.add_argument("--patch-file", default=None, metavar="FILE", help="read the patch from this file")
    p.add_argument("--type", choices=TYPES, default="strategic", help="strategic (default), merge or json")
    p.add_argument("--dry-run", choices=("none", "client", "server"), default="none",
                   help="server: check the change without keeping it")
    common.add_namespace_options(p, all_namespaces=False)
    common.add_config_option(p)
    p.set_defaults(free_words="words", func=run)


def read_patch(args):
    if (args.patch is None) == (args.patch_file is None):
        raise CommandError("give the patch with -p or --patch-file (one of them)")
    text = pathlib.Path(args.patch_file).read_text() if args.patch_file else args.patch
    try:
        body = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise CommandError(f"unable to parse the patch: {e}") from None
    wanted = list if args.type == "json" else dict
    if not isinstance(body, wanted):
        raise CommandError(f"a {args.type} patch must be a JSON {'list' if wanted is list else 'object'}")
    return body


def patched(kind, data: dict, patch_type: str, body) -> dict:
    """The object's JSON after the patch; CommandError with the patch's own words if it does not apply."""
    try:
        if patch_type == "json":
            return patch.json_patch(data, body)
        if patch_type == "merge":
            return patch.merge_patch(data, body)
        return patch.strategic_merge_patch(kind, data, body)
    except patch.PatchError as e:
        raise CommandError(f"the patch does not apply: {e}") from None


async def run(args) -> int:
    body = read_patch(args)
    async with common.connect(args) as client:
        for kind, namespace, name in await common.objects_named(client, args.words, args):
            _, changed = await object_change.change(
                client, kind, name, namespace, lambda data: patched(kind, data, args.type, body),
                dry_run=args.dry_run == "server")
            print(f"{resource_name(kind, name)} patched{'' if changed else ' (no change)'}", flush=True)
    return 0
