"""`cox label` and `cox annotate`: set (`key=value`) or remove (`key-`) labels or annotations.

As kubectl: objects by `KIND NAME...`, `KIND/NAME...`, `-l SELECTOR` or
`--all`; changing a key that already has another value needs --overwrite;
each object prints `pod/web labeled` (or `not labeled` when nothing changed).
"""
from controlplane.cli import common, object_change
from controlplane.cli.common import CommandError
from controlplane.cli.printing.formats import resource_name


def register(sub) -> None:
    for verb, field, done in (("label", "labels", "labeled"), ("annotate", "annotations", "annotated")):
        p = sub.add_parser(verb, help=f"set or remove the {field} of objects")
        p.add_argument("words", nargs="+", metavar="KIND NAME... KEY=VALUE... KEY-...",
                       help="the objects, then the changes: KEY=VALUE sets, KEY- removes")
        p.add_argument("-l", "--selector", default="", help="change every object this label selector matches")
        p.add_argument("--all", action="store_true", help="change every object of the kind in the namespace")
        p.add_argument("--overwrite", action="store_true", help="allow replacing a key's value")
        p.add_argument("--dry-run", choices=("none", "client", "server"), default="none",
                       help="server: check the change without keeping it")
        common.add_namespace_options(p, all_namespaces=False)
        common.add_config_option(p)
        p.set_defaults(free_words="words", func=run, field=field, done=done)


def split_changes(words: list[str]) -> tuple[list[str], dict[str, str], list[str]]:
    """(object words, keys to set, keys to remove) from the command's words."""
    targets, setting, removing = [], {}, []
    for word in words:
        if "=" in word:
            key, _, value = word.partition("=")
            if not key:
                raise CommandError(f"invalid change {word!r}: expected KEY=VALUE")
            setting[key] = value
        elif word.endswith("-") and targets:
            removing.append(word[:-1])
        else:
            targets.append(word)
    if not setting and not removing:
        raise CommandError("at least one KEY=VALUE or KEY- is required")
    both = sorted(set(setting) & set(removing))
    if both:
        raise CommandError(f"can not both modify and remove the same key: {', '.join(both)}")
    return targets, setting, removing


def apply_changes(data: dict, field: str, setting: dict, removing: list, *, overwrite: bool) -> dict:
    """The object's JSON with the keys of metadata.<field> set and removed."""
    current = data.setdefault("metadata", {}).setdefault(field, {})
    if not overwrite:
        for key, value in setting.items():
            if key in current and current[key] != value:
                raise CommandError(f"'{key}' already has a value ({current[key]}), and --overwrite is false")
    for key in removing:
        current.pop(key, None)
    current.update(setting)
    return data


async def run(args) -> int:
    words, setting, removing = split_changes(args.words)
    if not words:
        raise CommandError("name the objects: KIND NAME..., KIND/NAME..., or KIND with -l or --all")
    async with common.connect(args) as client:
        targets = await common.objects_named(client, words, args)
        for kind, namespace, name in targets:
            def edit(data):
                return apply_changes(data, args.field, setting, removing, overwrite=args.overwrite)
            _, changed = await object_change.change(client, kind, name, namespace, edit,
                                                    dry_run=args.dry_run == "server")
            suffix = " (server dry run)" if args.dry_run == "server" else ""
            print(f"{resource_name(kind, name)} {'' if changed else 'not '}{args.done}{suffix}", flush=True)
    return 0
