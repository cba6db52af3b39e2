"""The ranking evaluation set: real error output, each case labelled with the right playbook.

Each ``cases/*.txt`` file holds header lines (``expect: NAME``, ``source: where the output
comes from``, ``chat: customer: text``), a line ``---``, then the screen as the agent's
mirror shows it. Run ``python -m tests.playbook.eval.cases`` for the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from cobrowse.playbook.catalogue import SAMPLES, Catalogue

CASES = Path(__file__).resolve().parent / "cases"


@dataclass(frozen=True)
class Case:
    name: str
    expect: str
    source: str
    chat: tuple[tuple[str, str], ...]
    screen: tuple[str, ...]


def load_cases(folder: Path = CASES) -> list[Case]:
    out = []
    for path in sorted(folder.glob("*.txt")):
        head, _, screen = path.read_text(encoding="utf-8").partition("\n---\n")
        fields: dict[str, str] = {}
        chat: list[tuple[str, str]] = []
        for line in head.splitlines():
            key, _, value = line.partition(": ")
            if key == "chat":
                who, _, text = value.partition(": ")
                chat.append((who, text))
            else:
                fields[key] = value
        out.append(Case(path.stem, fields["expect"], fields.get("source", ""), tuple(chat), tuple(screen.splitlines())))
    return out


@dataclass(frozen=True)
class Result:
    case: Case
    ranked: tuple[str, ...]

    @property
    def position(self) -> int | None:
        return self.ranked.index(self.case.expect) + 1 if self.case.expect in self.ranked else None


Ranker = Callable[[Catalogue, Case], Sequence[str]]


def by_suggest(library: Catalogue, case: Case) -> list[str]:
    return [m.entry.name for m in library.suggest(case.screen, case.chat)]


def by_plain_search(library: Catalogue, case: Case) -> list[str]:
    """The baseline: the whole screen and chat as one unweighted search query."""
    text = "\n".join([*case.screen, *(t for _, t in case.chat)])
    return [m.entry.name for m in library.search(text)]


def evaluate(ranker: Ranker = by_suggest, library: Catalogue | None = None) -> list[Result]:
    library = library or Catalogue([SAMPLES])
    return [Result(case, tuple(ranker(library, case))) for case in load_cases()]


def top(results: list[Result], k: int) -> float:
    return sum(1 for r in results if r.position is not None and r.position <= k) / len(results)


def table(results: list[Result]) -> str:
    lines = [f"{'case':<34} {'expected':<24} {'pos':>3}  top 3"]
    for r in results:
        lines.append(f"{r.case.name:<34} {r.case.expect:<24} {r.position or '-':>3}  {', '.join(r.ranked[:3])}")
    lines.append(f"{len(results)} cases: top-1 {top(results, 1):.0%}, top-3 {top(results, 3):.0%}")
    return "\n".join(lines)


if __name__ == "__main__":
    print("suggest (weighted screen + chat):")
    print(table(evaluate(by_suggest)))
    print("\nbaseline (the screen as one plain search):")
    print(table(evaluate(by_plain_search)))
