"""What a quickstart run does, sized to a time budget and to the machine it runs on.

Sizes scale linearly with ``--budget-minutes`` (``--full``: 60), inversely with the number of
languages, and with the machine's measured generation speed (`measure.generation_speed`, relative to
`REFERENCE_TOKENS_PER_SECOND`), and are clamped to what the shipped data holds (the arith task: 480
training and 80 test problems per language; the starter questions: 50 held-apart per language).
``quickstart.json`` records every step's seconds, the measured speed and the sizes used.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from polyalign import langs
from polyalign.errors import InputError
from polyalign.eval.benchmarks import STARTER_LANGS

__all__ = ["QuickstartConfig", "Sizes", "sizes_for", "relative_speed", "METRICS", "DEFAULT_MODEL",
           "DEFAULT_BUDGET_MINUTES", "FULL_BUDGET_MINUTES", "REFERENCE_TOKENS_PER_SECOND", "EXPERIMENT"]

DEFAULT_MODEL = "smollm2-135m-instruct"
EXPERIMENT = "qalign-smollm2"
"""The shipped experiment the quickstart runs (base / MonoReason / QAlign on the arith task)."""
DEFAULT_BUDGET_MINUTES = 15.0
FULL_BUDGET_MINUTES = 60.0
ARITH_TRAIN, ARITH_TEST, STARTER_TEST = 480, 80, 50
MIN_TEST_DEFAULT = 40
"""Test problems per language never drop below this in a run of the default budget or more (CIs need n)."""
REFERENCE_TOKENS_PER_SECOND = 185.0
"""Generation speed (`measure.generation_speed`) at which the reference sizes fill the default budget.

Measured on the development machine (2-core AMD EPYC, AVX512_BF16), idle: the probe read 185.9 and
184.5 tokens/s (lean decode loop, bf16, batch auto; 36 starter questions, 32 new tokens). The
reference sizes are the shipped qalign-smollm2 experiment's (60 stage-I pairs per language, 240
stage-II examples) with all 80 test problems per language; on that machine the experiment at those
sizes took 14.2 min with the old decoder while other jobs shared the cores, and a fresh clone's
default run 16.9 min (probe 187.6). With the cheaper LoRA dropout (train/dropout.py) a fresh clone's
default run took 16.0 min (17.2 with ``make``'s install; `REFERENCE_STEP_SECONDS`), with the probe at
175.3 tokens/s and so 95 % of the reference sizes (that day the idle machine's probe and decode
benchmark both read 6-8 % below the day before).
"""
REFERENCE_STEP_SECONDS = {"model": 17, "experiment": 787, "panel": 106, "align": 49, "comparison": 0, "report": 1}
"""Seconds per step of a fresh clone's default run on the reference machine, idle (`pipeline.STEP_WEIGHTS`, the
ETA, follows them): the experiment's evaluations took 128 s per arm (684 items each), MonoReason's
training 83 s, QAlign's two stages 318 s (57 stage-I pairs per language, 227 stage-II examples)."""
SPEED_LIMITS = (0.25, 4.0)
"""A probe outside these multiples of the reference is clamped (a GPU does not make the data longer)."""


@dataclass
class QuickstartConfig:
    """Settings of one quickstart (saved as ``OUT/config.yaml``)."""

    out: str = "quickstart-out"
    model: str = DEFAULT_MODEL
    """Zoo name, local folder or hub id; the base arm's model and the train recipes' starting model."""
    langs: list[str] = field(default_factory=lambda: [code for code in STARTER_LANGS if code != "en"])
    """Languages besides English (a subset of the quickstart languages)."""
    budget_minutes: float = DEFAULT_BUDGET_MINUTES
    """Wall-clock target; scales the data sizes (with the measured speed, see `calibrate`)."""
    calibrate: bool = True
    """Scale the sizes by this machine's measured generation speed; False: the reference sizes, equal
    on every machine (for comparing runs across machines)."""
    experiment: str = EXPERIMENT
    """Experiment file or shipped name (arms base, monoreason, qalign; suite task arith)."""
    overrides: list[str] = field(default_factory=list)
    """Extra ``key=value`` overrides of the experiment (applied after the quickstart's own)."""
    seed: int = 1234

    def validate(self) -> None:
        if self.budget_minutes <= 0:
            raise InputError(f"--budget-minutes must be > 0, got {self.budget_minutes:g}")
        codes = [langs.get(code).code for code in self.langs]
        unknown = [code for code in codes if code not in STARTER_LANGS or code == "en"]
        if unknown or not codes:
            raise InputError(f"--langs: the starter data has {', '.join(c for c in STARTER_LANGS if c != 'en')}; "
                             f"got {', '.join(unknown) or 'none'}")
        self.langs = list(dict.fromkeys(codes))


@dataclass(frozen=True)
class Sizes:
    """Examples per language for training and for each measurement."""

    stage1_pairs: int
    """X→English question pairs per language for QAlign's stage I."""
    stage2_examples: int
    """English questions with chains of thought for stage II (both trained arms)."""
    test: int
    """Held-out arith problems per language every arm answers."""
    translate: int
    """Held-apart starter questions per language translated to English (stage-I panel)."""
    loglik: int
    """Held-apart starter questions per language for the reference log-likelihood (stage-I panel)."""
    align: int
    """Held-apart parallel starter questions per language for layer-wise retrieval (stage-I panel)."""


def relative_speed(tokens_per_second: float) -> float:
    """A measured generation speed as a multiple of the reference, clamped to `SPEED_LIMITS`."""
    low, high = SPEED_LIMITS
    return max(low, min(high, tokens_per_second / REFERENCE_TOKENS_PER_SECOND))


def sizes_for(budget_minutes: float, n_langs: int, speed: float = 1.0) -> Sizes:
    """Sizes for a budget; the 15-minute default fits 8 languages on a machine of the reference speed.

    ``speed`` is the machine's generation speed relative to the reference (`relative_speed`).
    """
    scale = budget_minutes / DEFAULT_BUDGET_MINUTES * 8 / max(n_langs, 1) * speed
    # the stage-II set and the base English items do not grow with the languages
    flat = budget_minutes / DEFAULT_BUDGET_MINUTES * speed
    test_floor = MIN_TEST_DEFAULT if budget_minutes >= DEFAULT_BUDGET_MINUTES else 8

    def clamp(base: float, low: int, high: int, by: float = scale) -> int:
        return max(low, min(high, round(base * by)))

    # Generation dominates: 3 arms × (1 + n_langs) × test items × up to 48 tokens; LoRA training of
    # stage I (n_langs × pairs) and stage II (twice: both arms) comes next.
    return Sizes(stage1_pairs=clamp(60, 8, ARITH_TRAIN), stage2_examples=clamp(240, 16, ARITH_TRAIN, flat),
                 test=clamp(80, test_floor, ARITH_TEST), translate=clamp(6, 4, STARTER_TEST),
                 loglik=clamp(20, 8, STARTER_TEST), align=clamp(20, 8, STARTER_TEST))


METRICS: dict[str, dict[str, object]] = {
    "chrf": {"label": "X→en question translation, chrF++", "higher_is_better": True},
    "ref_logprob": {"label": "log-likelihood of the reference English question, per token", "higher_is_better": True},
    "translation_in_english": {"label": "translations in English, %", "higher_is_better": True},
    "retrieval": {"label": "retrieval of the parallel English question (mean over layers), %",
                  "higher_is_better": True},
}
"""The stage-I panel's measurements (base vs QAlign's stage-I model), in table order."""
