"""Lexical relevance of playbooks to a piece of text (a query, later a screen): BM25.

BM25 is what search engines start from and what a support team's knowledge base needs
first: rare words (``ECONNREFUSED``, ``non-fast-forward``) weigh more than common ones, and
long playbooks do not win by length. Fields are weighted by repeating them: a playbook's
title and commands say what it is about more than its prose does. Pure: documents in,
scores out; no I/O.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Mapping, Sequence

from cobrowse.playbook.model import Playbook

K1 = 1.2
B = 0.75
#: How many times a field counts: title and step titles say what a playbook is for;
#: commands and expected output are what customers see on their screens.
WEIGHTS = {"title": 3, "steps": 2, "commands": 2, "description": 1, "bodies": 1}
_WORD = re.compile(r"\w[\w'-]*\w|\w", re.UNICODE)
_CAMEL = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
#: Words too common to say anything on their own; they still count inside a phrase.
STOPWORDS = frozenset(
    "a an and are as at be by for from has have he i if in is it its of on or our she so that the their them "
    "then there these they this to was we were what when which who will with you your".split())


def words(text: str) -> list[str]:
    """Lower-cased words, hyphenated and dotted terms kept whole (``non-fast-forward``) and
    also split into their parts (``non``, ``fast``, ``forward``)."""
    out: list[str] = []
    for match in _WORD.finditer(text):
        word = match.group()
        folded = word.casefold()
        out.append(folded)
        parts = re.split(r"['-]", folded)
        if len(parts) > 1:
            out.extend(p for p in parts if p)
        elif not word.islower() and not word.isupper():
            camel = _CAMEL.findall(word)  # ModuleNotFoundError: module, not, found, error
            if len(camel) > 1:
                out.extend(c.casefold() for c in camel)
    return out


def terms(text: str) -> list[str]:
    """The words of ``text`` (stop words left out) and its two-word phrases (``"space left"``):
    a phrase such as ``no space left on device`` says more than its words apart."""
    whole = [m.group().casefold() for m in _WORD.finditer(text)]
    phrases = [f"{a} {b}" for a, b in zip(whole, whole[1:]) if not (a in STOPWORDS and b in STOPWORDS)]
    return [w for w in words(text) if w not in STOPWORDS] + phrases


def document(playbook: Playbook, name: str = "") -> list[str]:
    """The bag of words a playbook is ranked by, fields repeated by their weight."""
    fields = {
        "title": f"{playbook.title} {name.replace('-', ' ').replace('_', ' ')}",
        "steps": " ".join(step.title for step in playbook.steps),
        "commands": " ".join(f"{step.command or ''} {step.expect or ''} {step.fail or ''}" for step in playbook.steps),
        "description": playbook.description,
        "bodies": " ".join(step.body for step in playbook.steps),
    }
    bag: list[str] = []
    for field, text in fields.items():
        bag.extend(terms(text) * WEIGHTS[field])
    return bag


@dataclass(frozen=True)
class Scored:
    index: int  # into the documents given to ``rank``
    score: float  # BM25, squashed into [0, 1): comparable within one query, not calibrated


def rank(documents: Sequence[Sequence[str]], query: str) -> list[Scored]:
    """Documents that share a word with ``query``, best first (ties keep the given order)."""
    return rank_terms(documents, {term: 1.0 for term in terms(query)})


def rank_terms(documents: Sequence[Sequence[str]], weighted: Mapping[str, float], scale: float = 4.0) -> list[Scored]:
    """BM25 with a weight per query term (``suggest`` weighs an error line's words above the
    rest of a screen): documents that share a term, best first, ties in the given order.
    ``scale`` sets where the squashed score reaches about 0.63."""
    query = {t: w for t, w in weighted.items() if w > 0}
    if not query or not documents:
        return []
    counts = [Counter(doc) for doc in documents]
    average = sum(len(doc) for doc in documents) / len(documents) or 1.0
    n = len(documents)
    idf = {}
    for term in query:
        having = sum(1 for c in counts if term in c)
        idf[term] = math.log(1 + (n - having + 0.5) / (having + 0.5))
    out: list[Scored] = []
    for index, (doc, count) in enumerate(zip(documents, counts)):
        score = 0.0
        for term, weight in query.items():
            tf = count.get(term, 0)
            if tf:
                score += weight * idf[term] * tf * (K1 + 1) / (tf + K1 * (1 - B + B * len(doc) / average))
        if score > 0:
            out.append(Scored(index, 1 - math.exp(-score / scale)))
    out.sort(key=lambda s: -s.score)
    return out
