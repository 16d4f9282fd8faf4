"""`cox completion bash|zsh`: a shell completion script, written from cox's own argument parsers.

`source <(cox completion bash)` completes commands, each command's options,
kinds after the commands that take one, and object names after a kind (asking
the server with `cox get KIND -o jsonpath`). zsh loads the same script
through bashcompinit, so both shells complete alike.
"""
import argparse
import shlex

from controlplane.api import kinds

TAKES_KIND = ("get", "describe", "delete", "label", "annotate", "patch", "edit", "wait", "explain", "scale",
              "rollout", "logs", "exec")
_ZSH_PREAMBLE = "autoload -U +X compinit && compinit\nautoload -U +X bashcompinit && bashcompinit\n"


def register(sub) -> None:
    p = sub.add_parser("completion", help="print a shell completion script: source <(cox completion bash)")
    p.add_argument("shell", choices=("bash", "zsh"))
    p.set_defaults(func=run, subcommands=sub)


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return sorted(o for action in parser._actions for o in action.option_strings)


def script(commands: dict[str, argparse.ArgumentParser], *, shell: str) -> str:
    """The completion script for these subcommands (name -> parser)."""
    words = " ".join(sorted(commands))
    kind_words = " ".join(sorted({k.plural for k in kinds.KINDS.values()}
                                 | {s for k in kinds.KINDS.values() for s in k.short_names}))
    cases = "\n".join(f"    {shlex.quote(name)}) opts={shlex.quote(' '.join(_options(parser)))} ;;"
                      for name, parser in sorted(commands.items()))
    body = f"""# cox completion for {shell}: source <(cox completion {shell})
_cox_names() {{
    cox get "$@" -o jsonpath='{{.items[*].metadata.name}}' 2>/dev/null
}}
_cox() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" opts="" kind=""
    COMPREPLY=()
    if [[ $COMP_CWORD -eq 1 ]]; then
        COMPREPLY=($(compgen -W "{words}" -- "$cur"))
        return 0
    fi
    case "${{COMP_WORDS[1]}}" in
{cases}
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return 0
    fi
    case " {' '.join(TAKES_KIND)} " in
        *" ${{COMP_WORDS[1]}} "*) ;;
        *) return 0 ;;
    esac
    local i word namespace=()
    for ((i = 2; i < COMP_CWORD; i++)); do
        word="${{COMP_WORDS[i]}}"
        case "$word" in
            -n|--namespace) namespace=(-n "${{COMP_WORDS[i + 1]}}"); ((i++)) ;;
            -*) ;;
            *) [[ -z "$kind" ]] && kind="$word" ;;
        esac
    done
    if [[ -z "$kind" ]]; then
        COMPREPLY=($(compgen -W "{kind_words}" -- "$cur"))
    else
        COMPREPLY=($(compgen -W "$(_cox_names "$kind" "${{namespace[@]}}")" -- "$cur"))
    fi
    return 0
}}
complete -F _cox cox
"""
    return (_ZSH_PREAMBLE if shell == "zsh" else "") + body


async def run(args) -> int:
    print(script(args.subcommands.choices, shell=args.shell), end="")
    return 0
