"""`cox`: one command, subcommands registered by the modules of this package.

Each subcommand module has `register(subparsers)`, which adds its parser and
sets `func` to an async function taking the parsed arguments. Errors a user
can act on are printed as one line on stderr with a non-zero exit.
"""
import argparse
import asyncio
import logging
import sys

from controlplane.api.errors import InvalidError
from controlplane.cli import (apply_cmd, config_cmd, create_cmd, delete_cmd, describe_cmd, get_cmd, server_cmd,
                              version_cmd)
from controlplane.cli import controller_manager_cmd, rollout_cmd, scale_cmd, set_cmd
from controlplane.cli import agent_cmd, exec_cmd, local_cmd, logs_cmd, node_cmd, scheduler_cmd, secrets_cmd
from controlplane.cli import auth_cmd, top_cmd, trace_cmd
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
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        code = asyncio.run(args.func(args))
    except KeyboardInterrupt:
        code = 130
    except (CommandError, InvalidError, config.ConfigError, errors.ApiError) as e:
        for line in str(e).splitlines() or [type(e).__name__]:
            report(line)
        code = 1
    sys.exit(code or 0)
