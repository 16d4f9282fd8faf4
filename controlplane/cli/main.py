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
import importlib
import logging
import os
import sys

from controlplane.api.errors import InvalidError
from controlplane.cli.common import CommandError, report
from controlplane.client import config, errors

COMMANDS = (   # the modules of this package that register a subcommand, in `cox --help` order
    "server_cmd", "apply_cmd", "create_cmd", "get_cmd", "describe_cmd", "logs_cmd", "exec_cmd", "delete_cmd",
    "version_cmd", "config_cmd", "rollout_cmd", "scale_cmd", "set_cmd", "controller_manager_cmd",
    "scheduler_cmd", "node_cmd", "secrets_cmd", "local_cmd", "agent_cmd", "auth_cmd", "label_cmd", "patch_cmd",
    "edit_cmd", "wait_cmd", "explain_cmd", "api_resources_cmd", "completion_cmd", "run_cmd", "expose_cmd",
    "cp_cmd", "port_forward_cmd", "top_cmd", "trace_cmd",
)

# Daemons, by their word: their process registers and imports only their own module, not the other
# commands' (their tables, printers, manifest readers: ~2 MB the agent would hold for its whole life;
# its target is 60 MB, bench/agent_memory_bench.py). Every other word gets every command.
DAEMONS = {"agent": "agent_cmd", "server": "server_cmd", "scheduler": "scheduler_cmd",
           "controller-manager": "controller_manager_cmd"}

def build_parser(modules: tuple[str, ...] = COMMANDS) -> argparse.ArgumentParser:
    parser = _global_options(argparse.ArgumentParser(prog="cox", description="coxswain: a small container orchestrator"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in modules:
        importlib.import_module(f"controlplane.cli.{name}").register(sub)
    return parser


def _global_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--config", metavar="FILE", default=None,
                        help="client config for every command (default: $COX_CONFIG, else ~/.cox/config)")
    return parser


def command_modules(argv: list[str]) -> tuple[str, ...]:
    """The modules to register for this command line: a daemon's own alone (DAEMONS), else all (whose
    parser also reports what is wrong with the line)."""
    try:
        _, rest = _global_options(argparse.ArgumentParser(add_help=False, exit_on_error=False)).parse_known_args(argv)
    except argparse.ArgumentError:
        return COMMANDS
    return (DAEMONS[rest[0]],) if rest and rest[0] in DAEMONS else COMMANDS


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(command_modules(argv))
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
