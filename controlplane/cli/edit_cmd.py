"""`cox edit KIND/NAME`: the object as YAML in $KUBE_EDITOR (else $EDITOR, else vi), written back on save.

As kubectl: an unchanged file cancels; a file the server refuses is kept
(its path printed) so the work is not lost; `-o json` edits JSON instead.
"""
import json
import os
import subprocess
import tempfile

import yaml

from controlplane.api import convert
from controlplane.api.errors import InvalidError
from controlplane.cli import common, object_change
from controlplane.cli.common import CommandError
from controlplane.cli.printing.formats import resource_name
from controlplane.client import errors


def register(sub) -> None:
    p = sub.add_parser("edit", help="edit an object in your editor")
    p.add_argument("words", nargs="+", metavar="KIND NAME", help="KIND NAME or KIND/NAME")
    p.add_argument("-o", "--output", choices=("yaml", "json"), default="yaml", help="edit as yaml (default) or json")
    common.add_namespace_options(p, all_namespaces=False)
    common.add_config_option(p)
    p.set_defaults(free_words="words", func=run)


def editor_command(path: str) -> list[str]:
    """The editor run by the shell, as kubectl runs it, so `EDITOR="code --wait"` or a sed script works."""
    editor = os.environ.get("KUBE_EDITOR") or os.environ.get("EDITOR") or "vi"
    return ["sh", "-c", f'{editor} "$1"', "editor", path]


def _text(data: dict, output: str) -> str:
    return convert.to_yaml(data) if output == "yaml" else json.dumps(data, indent=4) + "\n"


async def run(args) -> int:
    async with common.connect(args) as client:
        targets = await common.objects_named(client, args.words, args)
        for kind, namespace, name in targets:
            current = convert.to_dict(await common.get_object(client, kind, namespace, name))
            original = _text(current, args.output)
            with tempfile.NamedTemporaryFile("w", suffix=f".{args.output}", prefix=f"cox-edit-{name}-",
                                             delete=False) as f:
                f.write(original)
            if subprocess.run(editor_command(f.name)).returncode != 0:
                raise CommandError(f"the editor exited with an error; your changes are in {f.name}")
            with open(f.name) as edited_file:
                edited = edited_file.read()
            if edited == original:
                os.unlink(f.name)
                print("Edit cancelled, no changes made.")
                continue
            try:
                wanted = yaml.safe_load(edited)
                _, changed = await object_change.change(client, kind, name, namespace, lambda _: wanted)
            except (yaml.YAMLError, errors.ApiError, InvalidError, CommandError) as e:
                raise CommandError(f"{e}\nA copy of your changes has been stored to \"{f.name}\"") from None
            os.unlink(f.name)
            print(f"{resource_name(kind, name)} {'edited' if changed else 'skipped'}", flush=True)
    return 0
