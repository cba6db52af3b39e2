"""`cobrowse completion bash|zsh|fish`: shell completion generated from the parser itself.

Generated, not hand-written, so a new command or flag completes the day it lands. Commands,
sub-actions (``relay token create``, ``playbooks search``) and each one's flags complete;
values (files, codes) fall back to the shell's own file completion.
"""

from __future__ import annotations

import argparse
import shlex


def _tree(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], tuple[list[str], list[str]]]:
    """For every command path: (its sub-command names, its flags)."""
    words: list[str] = []
    flags: list[str] = []
    out: dict[tuple[str, ...], tuple[list[str], list[str]]] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                words.append(name)
                out.update(_tree(sub, (*path, name)))
        elif not action.option_strings and action.choices:
            words.extend(str(choice) for choice in action.choices)  # e.g. completion's shell
        else:
            flags.extend(o for o in action.option_strings if o.startswith("--") or len(o) == 2)
    out[path] = (words, flags)
    return out


def _label(path: tuple[str, ...]) -> str:
    return shlex.quote(" ".join(path)) if path else '""'


def bash(parser: argparse.ArgumentParser) -> str:
    tree = _tree(parser)
    cases = "\n".join(f"        {_label(path)}) words={shlex.quote(' '.join(words))}; flags={shlex.quote(' '.join(flags))} ;;"
                      for path, (words, flags) in sorted(tree.items()))
    nodes = "\n".join(f"        {_label(path)}) echo yes ;;" for path in sorted(tree))
    return BASH.replace("@CASES@", cases).replace("@NODES@", nodes)


BASH = """# bash completion for cobrowse: eval "$(cobrowse completion bash)" (e.g. in ~/.bashrc)
_cobrowse() {
    local cur=${COMP_WORDS[COMP_CWORD]} path="" i w words="" flags=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        [[ $w == -* ]] && continue
        [[ $(_cobrowse_node "${path:+$path }$w") == yes ]] && path="${path:+$path }$w"
    done
    case "$path" in
@CASES@
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    elif [[ -n $words ]]; then
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
    else
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}
_cobrowse_node() {
    case "$1" in
@NODES@
        *) echo no ;;
    esac
}
complete -o default -F _cobrowse cobrowse
"""


def zsh(parser: argparse.ArgumentParser) -> str:
    return ("# zsh completion for cobrowse: eval \"$(cobrowse completion zsh)\" (e.g. in ~/.zshrc)\n"
            "autoload -U +X bashcompinit && bashcompinit\n" + bash(parser).split("\n", 1)[1])


def fish(parser: argparse.ArgumentParser) -> str:
    lines = ["# fish completion for cobrowse: cobrowse completion fish > ~/.config/fish/completions/cobrowse.fish",
             "complete -c cobrowse -f"]
    for path, (words, flags) in sorted(_tree(parser).items()):
        seen = " ".join(f"__fish_seen_subcommand_from {shlex.quote(p)};" for p in path)
        condition = f"{seen} true" if path else "__fish_use_subcommand"
        for word in words:
            lines.append(f"complete -c cobrowse -n {shlex.quote(condition)} -a {shlex.quote(word)}")
        for flag in flags:
            if flag.startswith("--"):
                lines.append(f"complete -c cobrowse -n {shlex.quote(condition)} -l {shlex.quote(flag[2:])}")
    return "\n".join(lines) + "\n"


SHELLS = {"bash": bash, "zsh": zsh, "fish": fish}
