"""`cox`: one command, subcommands registered by the modules of this package.

Each subcommand module has `register(subparsers)`, which adds its parser and
sets `func` to an async function taking the parsed arguments. A command
whose words may follow its options, as kubectl's verbs take them (`label
deploy web -n x a=b`, `run web --image=i -- sleep 9`), names its list of
words in `free_words`. Errors a user can act on are printed as one line on
stderr with a non-zero exit; a reader of stdout that goes away (`| head`)
ends the command quietly.
"""
import argparse
import asyncio
import logging
import os
import sys

from controlplane.api.errors import InvalidError
from controlplane.cli import (apply_cmd, config_cmd, create_cmd, delete_cmd, describe_cmd, get_cmd, server_cmd,
                              version_cmd)
from controlplane.cli import controller_manager_cmd, rollout_cmd, scale_cmd, set_cmd
from controlplane.cli import agent_cmd, exec_cmd, local_cmd, logs_cmd, node_cmd, scheduler_cmd, secrets_cmd
from controlplane.cli import auth_cmd, top_cmd, trace_cmd
from controlplane.cli import edit_cmd, label_cmd, patch_cmd, wait_cmd
from controlplane.cli import api_resources_cmd, completion_cmd, cp_cmd, explain_cmd, expose_cmd, run_cmd
from controlplane.cli import port_forward_cmd
from controlplane.cli.common import CommandError, report
from controlplane.client import config, errors

COMMANDS = [
    server_cmd,
    apply_cmd,
    create_cmd,
    get_cmd,
    describe_cmd,
    logs_cmd,
    exec_cmd,
    delete_cmd,
    version_cmd,
    config_cmd,
    rollout_cmd,
    scale_cmd,
    set_cmd,
    controller_manager_cmd,
    scheduler_cmd,
    node_cmd,
    secrets_cmd,
    local_cmd,
    agent_cmd,
    auth_cmd,
    label_cmd,
    patch_cmd,
    edit_cmd,
    wait_cmd,
    explain_cmd,
    api_resources_cmd,
    completion_cmd,
    run_cmd,
    expose_cmd,
    cp_cmd,
    port_forward_cmd,
    top_cmd,
    trace_cmd,
]

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cox", description="coxswain: a small container orchestrator")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--config", metavar="FILE", default=None,
                        help="client config for every command (default: $COX_CONFIG, else ~/.cox/config)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    _take_free_words(parser, args, extra)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        code = asyncio.run(args.func(args))
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        code = _reader_gone()
    except (CommandError, InvalidError, config.ConfigError, errors.ApiError) as e:
        for line in str(e).splitlines() or [type(e).__name__]:
            report(line)
        code = 1
    sys.exit(code or 0)


def _take_free_words(parser, args, extra: list[str]) -> None:
    """Words argparse left over, given to the command's list of free words (`free_words`): kubectl's
    verbs take them after their options (`label deploy web -n x a=b`, `run web --image=i -- sleep 9`)."""
    if not extra:
        return
    free = getattr(args, "free_words", None)
    quoted = extra[0] == "--"
    words = extra[1:] if quoted else extra
    if free is None or (not quoted and any(word.startswith("-") for word in words)):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    setattr(args, free, getattr(args, free) + words)


def _reader_gone() -> int:
    """stdout's reader left (`cox get all -A | head`): stop quietly, as a program killed by SIGPIPE.
    stdout points at /dev/null so the interpreter's last flush has nowhere to fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + 13  # SIGPIPE's exit status in a shell
