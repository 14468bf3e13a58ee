"""What a quickstart run does, sized to a time budget and to the machine it runs on.

Sizes scale linearly with ``--budget-minutes``, inversely with the number of languages, and with the
machine's measured generation speed (`measure.generation_speed`, relative to
`REFERENCE_TOKENS_PER_SECOND`), and are clamped to what the starter data holds (200 training and 50
held-apart questions per language). ``quickstart.json`` records every step's seconds, the measured
speed and the sizes used.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from polyalign import langs
from polyalign.errors import InputError
from polyalign.eval.benchmarks import STARTER_LANGS

__all__ = ["QuickstartConfig", "Sizes", "sizes_for", "relative_speed", "METRICS", "DEFAULT_MODEL",
           "DEFAULT_BUDGET_MINUTES", "REFERENCE_TOKENS_PER_SECOND"]

DEFAULT_MODEL = "smollm2-135m-instruct"
DEFAULT_BUDGET_MINUTES = 15.0
TRAIN_AVAILABLE, TEST_AVAILABLE = 200, 50
REFERENCE_TOKENS_PER_SECOND = 55.0
"""Generation speed (`measure.generation_speed`) at which the reference sizes fill the default budget.

Measured with SmolLM2-135M-Instruct and the 8 default languages: on a 2-core AMD EPYC where the probe
gave 41.4 tokens/s (median of 3 runs, 40.6–41.9), the reference sizes took 19.4 minutes, 19.0 of them
in the size-dependent steps; 14.2 minutes are left for those steps in a 15-minute run (after the pull,
the probe and the report), so the reference is 41.4 × 19.0 / 14.2 ≈ 55 tokens/s.
"""
SPEED_LIMITS = (0.25, 4.0)
"""A probe outside these multiples of the reference is clamped (a GPU does not make the starter data longer)."""


@dataclass
class QuickstartConfig:
    """Settings of one quickstart (saved as ``OUT/config.yaml``)."""

    out: str = "quickstart-out"
    model: str = DEFAULT_MODEL
    """Zoo name, local folder or hub id; its tokenizer needs a chat template."""
    langs: list[str] = field(default_factory=lambda: [code for code in STARTER_LANGS if code != "en"])
    """Languages to align to English (a subset of the starter languages)."""
    budget_minutes: float = DEFAULT_BUDGET_MINUTES
    """Wall-clock target; scales the data sizes (with the measured speed, see `calibrate`)."""
    calibrate: bool = True
    """Scale the sizes by this machine's measured generation speed; False: the reference sizes, equal
    on every machine (for comparing runs across machines)."""
    train_recipe: str = "qalign-stage1-smollm2-lora"
    """Train recipe whose first stage is question alignment (LoRA by default)."""
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
    """Examples per language for each measurement and for training."""

    train: int
    """Question pairs per language for stage I."""
    translate: int
    """Held-apart questions per language translated to English (chrF++, response language)."""
    loglik: int
    """Held-apart questions per language for the reference log-likelihood."""
    answer: int
    """Held-apart questions per language answered (accuracy, answer language)."""
    align: int
    """Held-apart parallel questions per language for layer-wise retrieval."""


def relative_speed(tokens_per_second: float) -> float:
    """A measured generation speed as a multiple of the reference, clamped to `SPEED_LIMITS`."""
    low, high = SPEED_LIMITS
    return max(low, min(high, tokens_per_second / REFERENCE_TOKENS_PER_SECOND))


def sizes_for(budget_minutes: float, n_langs: int, speed: float = 1.0) -> Sizes:
    """Sizes for a budget; the 15-minute default fits 8 languages on a machine of the reference speed.

    ``speed`` is the machine's generation speed relative to the reference (`relative_speed`).
    """
    scale = budget_minutes / DEFAULT_BUDGET_MINUTES * 8 / max(n_langs, 1) * speed

    def clamp(base: float, low: int, high: int) -> int:
        return max(low, min(high, round(base * scale)))

    # Generation dominates the measurements (the base model chatters up to the token limit), and
    # LoRA training runs at ~170 tokens/s; these bases keep 8 languages within 15 minutes.
    return Sizes(train=clamp(40, 8, TRAIN_AVAILABLE), translate=clamp(8, 4, TEST_AVAILABLE),
                 loglik=clamp(30, 10, TEST_AVAILABLE), answer=clamp(3, 2, TEST_AVAILABLE),
                 align=clamp(30, 10, TEST_AVAILABLE))


METRICS: dict[str, dict[str, object]] = {
    "chrf": {"label": "X→en question translation, chrF++", "higher_is_better": True},
    "ref_logprob": {"label": "log-likelihood of the reference English question, per token", "higher_is_better": True},
    "translation_in_english": {"label": "translations in English, %", "higher_is_better": True},
    "retrieval": {"label": "retrieval of the parallel English question (mean over layers), %",
                  "higher_is_better": True},
    "answer_lang_match": {"label": "answers in the question's language, %", "higher_is_better": True},
    "acc": {"label": "math accuracy (not expected to move at this size), %", "higher_is_better": True},
}
"""The headline measurements, in table order (``quickstart.json`` carries the same labels)."""
