"""The `arith` task: one- and two-step arithmetic word problems in nine languages, written for polyalign.

Problems are rendered from the language material in ``assets/arith/lexicon.yaml`` (names, nouns with
their number agreement, classifiers and counters, and 24 phrasings written in every language), so a
problem is parallel by construction: the same person, object and numbers in en de fr es ru zh ja sw
th. Each problem carries an English chain of thought ending in "The answer is N." (the target of
QAlign's stage II) and its question in every language (the pairs of stage I).

Each phrasing belongs to one split (``train``, ``dev`` or ``test``): a problem of a split uses only its
phrasings, so a model is measured on surface forms it was not trained on, and choices made on dev
(sizes, learning rates) never see the test phrasings.

The shipped files in ``assets/arith/`` are this module's output with the defaults; regenerate them
with ``python -m polyalign.data.arith`` (a test checks they are up to date).
"""

from __future__ import annotations

import argparse
import json
import random
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ASSET_DIR", "Problem", "lexicon", "generate", "render", "write_task", "DEFAULT_SIZES", "SEED"]

ASSET_DIR = Path(__file__).resolve().parents[1] / "assets" / "arith"
DEFAULT_SIZES = {"train": 480, "dev": 48, "test": 80}
"""Problems per split: ≥ 400 to train on, a small dev split for choices, ≥ 60 held-out per language."""
SEED = 2026

_SLOT = re.compile(r"\{(\w+)(?::(\w+))?\}")


@dataclass(frozen=True)
class Problem:
    """One problem in every language."""

    id: str
    """``arith/<split>/<index>``."""
    phrasing: str
    kind: str
    numbers: dict[str, int]
    answer: int
    object: str
    question: dict[str, str] = field(default_factory=dict)
    """The question per language code."""
    solution: str = ""
    """English chain of thought ending in "The answer is N."."""


@lru_cache(maxsize=1)
def lexicon(path: str | None = None) -> dict[str, Any]:
    """The language material (``assets/arith/lexicon.yaml``)."""
    return yaml.safe_load(Path(path or ASSET_DIR / "lexicon.yaml").read_text(encoding="utf-8"))


def _russian_form(entry: dict[str, str], n: int) -> str:
    # Only numbers ≥ 2 that do not end in 1 (11 aside) occur (see _allowed), so two forms suffice:
    # 2–4 take the genitive singular ("3 яблока"), the rest the genitive plural ("5 яблок").
    return entry["few"] if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14) else entry["many"]


def _counted(lang: str, entry: dict[str, str], n: int) -> str:
    """A number with its noun, as the language writes it: "8 apples", "8个苹果", "แอปเปิล 8 ลูก"."""
    if "pattern" in entry:
        return entry["pattern"].format(n=n)
    if lang == "ru":
        return f"{n} {_russian_form(entry, n)}"
    if lang == "zh":
        return f"{n}{entry['clf']}{entry['noun']}"
    if lang == "ja":
        return f"{n}{entry['counter']}の{entry['noun']}"
    if lang == "th":
        return f"{entry['noun']} {n} {entry['clf']}"
    if lang == "sw":
        return f"{entry['plural']} {n}"
    return f"{n} {entry['plural']}"


def _how_many(lang: str, entry: dict[str, str]) -> str:
    """"how many NOUN" in the language's own construction."""
    return {
        "en": lambda: f"how many {entry.get('plural')}",
        "de": lambda: f"wie viele {entry.get('plural')}",
        "fr": lambda: f"combien de {entry.get('plural')}",
        "es": lambda: f"{entry.get('how')} {entry.get('plural')}",
        "ru": lambda: f"сколько {entry.get('many')}",
        "zh": lambda: f"多少{entry.get('clf')}{entry.get('noun')}",
        "ja": lambda: f"何{entry.get('counter')}の{entry.get('noun')}",
        "sw": lambda: f"{entry.get('plural')} {entry.get('how')}",
        "th": lambda: f"{entry.get('noun')}กี่{entry.get('clf')}",
    }[lang]()


def _bare(lang: str, entry: dict[str, str]) -> str:
    """The noun alone, in the form a phrasing uses after a quantity word."""
    if lang == "ru":
        return entry["many"]
    return entry.get("plural") or entry["noun"]


def render(text: str, lang: str, *, names: tuple[int, int], obj: str, numbers: dict[str, int],
           lex: dict[str, Any] | None = None) -> str:
    """Fill one phrasing's slots in ``lang`` (see the slot list at the top of the lexicon)."""
    lex = lex or lexicon()
    nouns = lex["nouns"]
    people = lex["names"][lang]

    def fill(match: re.Match[str]) -> str:
        slot, noun = match.group(1), match.group(2)
        if noun is not None:
            entry = nouns[obj if noun == "obj" else noun][lang]
            if slot in ("how", "How"):
                phrase = _how_many(lang, entry)
                return phrase[:1].upper() + phrase[1:] if slot == "How" else phrase
            return _counted(lang, entry, numbers[slot])
        if slot in numbers:
            return str(numbers[slot])
        if slot == "obj":
            return _bare(lang, nouns[obj][lang])
        if slot in ("name", "name2"):
            return people[names[slot == "name2"]]
        if slot in ("name_gen", "name2_gen"):
            return lex["names"]["ru_gen"][names[slot == "name2_gen"]]
        raise KeyError(f"arith lexicon: unknown slot {{{match.group(0)}}} in {text!r}")

    return _SLOT.sub(fill, text)


def _allowed(n: int) -> bool:
    # ≥ 2 keeps every language in the plural; no final 1 (but 11) spares Russian the singular
    # agreement, whose accusative differs by gender ("21 книгу").
    return n >= 2 and (n % 10 != 1 or n % 100 == 11)


def _pick(rng: random.Random, low: int, high: int) -> int:
    return rng.choice([n for n in range(low, high + 1) if _allowed(n)])


def _numbers(kind: str, rng: random.Random) -> tuple[dict[str, int], int, int]:
    """Numbers for one problem of ``kind``: (numbers, intermediate result, answer); small by design."""
    if kind == "add":
        a, b = _pick(rng, 2, 20), _pick(rng, 2, 20)
        return {"a": a, "b": b}, a + b, a + b
    if kind == "sub":
        a = _pick(rng, 6, 30)
        b = _pick(rng, 2, a - 2)
        return {"a": a, "b": b}, a - b, a - b
    if kind == "mul":
        a, b = _pick(rng, 2, 9), _pick(rng, 2, 9)
        return {"a": a, "b": b}, a * b, a * b
    if kind in ("add_sub", "add_add"):
        a, b = _pick(rng, 2, 15), _pick(rng, 2, 12)
        c = _pick(rng, 2, min(a + b - 2, 12)) if kind == "add_sub" else _pick(rng, 2, 12)
        return {"a": a, "b": b, "c": c}, a + b, a + b - c if kind == "add_sub" else a + b + c
    if kind == "sub_add":
        a = _pick(rng, 6, 20)
        b, c = _pick(rng, 2, a - 2), _pick(rng, 2, 10)
        return {"a": a, "b": b, "c": c}, a - b, a - b + c
    if kind in ("mul_add", "mul_sub"):
        a, b = _pick(rng, 2, 6), _pick(rng, 3, 8)
        c = _pick(rng, 2, 12) if kind == "mul_add" else _pick(rng, 2, min(a * b - 2, 12))
        return {"a": a, "b": b, "c": c}, a * b, a * b + c if kind == "mul_add" else a * b - c
    if kind == "add_times":
        a, b = _pick(rng, 2, 10), rng.choice([2, 3, 4])  # Russian "в 2–4 раза": one form of "раз"
        return {"a": a, "b": b}, a * b, a + a * b
    raise KeyError(f"arith lexicon: unknown kind {kind!r}")


def generate(split: str, count: int, *, seed: int = SEED, lex: dict[str, Any] | None = None) -> list[Problem]:
    """``count`` distinct problems of ``split`` (train, dev or test), spread evenly over its phrasings."""
    lex = lex or lexicon()
    phrasings = [p for p in lex["phrasings"] if p["split"] == split]
    if not phrasings:
        raise ValueError(f"arith lexicon: no phrasing for split {split!r}")
    rng = random.Random(f"{seed}/{split}")
    names, objects = range(len(lex["names"]["en"])), lex["objects"]
    problems: list[Problem] = []
    seen: set[str] = set()
    while len(problems) < count:
        phrasing = phrasings[len(problems) % len(phrasings)]
        numbers, partial, answer = _numbers(phrasing["kind"], rng)
        first, second = rng.sample(names, 2)
        obj = rng.choice(objects)
        people = (first, second)
        question = {lang: render(phrasing[lang], lang, names=people, obj=obj, numbers=numbers, lex=lex)
                    for lang in lex["languages"]}
        if question["en"] in seen:  # phrasings without a person repeat more easily
            continue
        seen.add(question["en"])
        english = lex["nouns"][obj]["en"]["plural"]
        solution = lex["kinds"][phrasing["kind"]]["solution"].format(
            **numbers, s=partial, r=answer, obj=english, name2=lex["names"]["en"][second])
        problems.append(Problem(id=f"arith/{split}/{len(problems)}", phrasing=phrasing["id"], kind=phrasing["kind"],
                                numbers=numbers, answer=answer, object=obj, question=question, solution=solution))
    return problems


def write_task(out: Path, sizes: dict[str, int] | None = None, *, seed: int = SEED) -> list[Path]:
    """Write ``<split>.jsonl`` (every language and the English solution) and ``<split>.<lang>.tsv``
    for dev and test.

    The TSVs are the evaluation layout (``question<TAB>answer``, line i = problem i), read by the
    same reader as MGSM's files.
    """
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for split, count in (sizes or DEFAULT_SIZES).items():
        problems = generate(split, count, seed=seed)
        path = out / f"{split}.jsonl"
        path.write_text("".join(json.dumps(asdict(p), ensure_ascii=False) + "\n" for p in problems), encoding="utf-8")
        written.append(path)
        if split != "train":
            for lang in lexicon()["languages"]:
                tsv = out / f"{split}.{lang}.tsv"
                tsv.write_text("".join(f"{p.question[lang]}\t{p.answer}\n" for p in problems), encoding="utf-8")
                written.append(tsv)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description="Regenerate the arith task files.")
    parser.add_argument("--out", type=Path, default=ASSET_DIR)
    args = parser.parse_args()
    for path in write_task(args.out):
        print(path)


if __name__ == "__main__":
    main()
