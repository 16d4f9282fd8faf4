"""`cox secrets rotate`: rewrite every Secret so it is stored under the current encryption key.

The rotation step between "add the new key first, restart" and "drop the old
key": each Secret is sent back unchanged, conditional on the resourceVersion
just read. The server writes it only if its stored form is stale (another key,
or plain text: see controlplane/apiserver/encryption/), so a Secret already
under the current key is left alone, and one changed meanwhile by someone
else was already written under the current key.
"""
from controlplane.cli import common
from controlplane.client import errors


def register(sub) -> None:
    p = sub.add_parser("secrets", help="Secrets at rest: re-encrypt them under the current key")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    rotate = verbs.add_parser("rotate", help="rewrite every Secret with the first provider and key of the "
                                             "server's encryption configuration")
    rotate.set_defaults(func=run_rotate)


async def run_rotate(args) -> int:
    async with common.connect(args) as client:
        secrets = client.resource("Secret")
        rewritten = current = gone = 0
        for secret in (await secrets.list()).items:
            try:
                written = await secrets.update(secret)
            except errors.NotFound:
                gone += 1
                continue
            except errors.Conflict:   # written by someone else meanwhile: under the current key already
                current += 1
                continue
            if written.metadata.resource_version != secret.metadata.resource_version:
                rewritten += 1
            else:
                current += 1
        print(f"secrets rotated: {rewritten} rewritten, {current} already under the current key"
              + (f", {gone} deleted meanwhile" if gone else ""))
        return 0
