"""The options every backend is built from: `BackendOptions`, with the proxy backend's in `ProxyOptions`.

Both are frozen. `ProxyOptions` checks its values when built, so one that exists is valid: α is a
finite number and the three prompt formats are each ``plain``, ``chat`` or a template containing
``{prompt}``. What depends on the chosen backend (proxy flags given to another backend, a
proxy run without its three models) is checked by `ProxyOptions.check_backend` and `check_models`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from polyalign.config import apply_overrides, from_dict, to_dict
from polyalign.errors import InputError
from polyalign.infer.members import check_prompt_format
from polyalign.infer.proxy import check_alpha

__all__ = ["BackendOptions", "ProxyOptions", "FORMAT_FLAGS", "PROXY_FIELDS", "with_overrides", "flat_fields"]

FORMAT_FLAGS = ("--base-format", "--expert-format", "--anti-expert-format")
"""The command-line flags of the three prompt formats, in ``prompt_formats`` order."""


@dataclass(frozen=True)
class ProxyOptions:
    """The proxy backend: a large base (``BackendOptions.model``) steered by a small expert / anti-expert pair."""

    expert: str | None = None
    """The small aligned expert."""
    anti_expert: str | None = None
    """The small model without alignment (anti-expert)."""
    alpha: float = 1.0
    """Next-token scores are ``s_base + alpha * (s_expert - s_anti_expert)``."""
    prompt_formats: tuple[str, str, str] = ("plain", "plain", "plain")
    """How base, expert and anti-expert read a prompt: ``plain``, ``chat`` or a ``{prompt}`` template."""
    small_dtype: str | None = None
    """dtype of the expert and anti-expert; None = ``BackendOptions.dtype``."""
    small_device: str | None = None
    """Device (map) of the expert and anti-expert; None = ``BackendOptions.device``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "alpha", check_alpha(self.alpha))
        formats = tuple(self.prompt_formats)  # configs and overrides deliver lists
        if len(formats) != 3:
            raise InputError(f"prompt_formats needs three formats (base, expert, anti-expert), got {len(formats)}")
        for flag, fmt in zip(FORMAT_FLAGS, formats):
            check_prompt_format(fmt, what=flag)
        object.__setattr__(self, "prompt_formats", formats)

    def given(self) -> list[str]:
        """The flags of the fields set away from their defaults, in the order of ``--help`` (for messages)."""
        base, expert, anti = (fmt != "plain" for fmt in self.prompt_formats)
        given = {"--expert": self.expert, "--anti-expert": self.anti_expert, "--alpha": self.alpha != 1.0,
                 "--base-format": base, "--expert-format": expert, "--anti-expert-format": anti,
                 "--small-dtype": self.small_dtype, "--small-device": self.small_device}
        return [flag for flag, value in given.items() if value]

    def check_backend(self, backend: str) -> None:
        """Refuse proxy fields given to another backend (which would silently ignore them).

        Raises:
            InputError: naming the flags concerned.
        """
        flags = self.given() if backend != "proxy" else []
        if flags:
            raise InputError(f"{', '.join(flags)}: only for --backend proxy (this run uses {backend})")

    def check_models(self, model: str | None) -> None:
        """Refuse a proxy run without its large base (``model``), expert or anti-expert.

        Raises:
            InputError: naming the missing flags.
        """
        missing = [flag for flag, value in (("--base (or --model)", model), ("--expert", self.expert),
                                            ("--anti-expert", self.anti_expert)) if not value]
        if missing:
            raise InputError(f"backend proxy needs {' and '.join(missing)}: a large base model, a small aligned "
                             "expert and the small model without alignment as anti-expert")


@dataclass(frozen=True)
class BackendOptions:
    """Everything a backend may need; each backend reads the fields it uses."""

    model: str | None = None
    """Zoo name, local folder or hub id (`polyalign.models.resolve_model`); the large base for proxy."""
    batch_size: int = 8
    dtype: str = "float32"
    device: str = "cpu"
    seed: int = 0
    chat: bool = False
    """Prompts are rendered by the model's chat template (which already holds BOS and friends)."""
    predictions: str | None = None
    """A predictions JSONL, for backends that replay stored outputs instead of running a model."""
    temperature: float = 0.0
    """0 = greedy (evaluation always); ``polyalign generate`` may sample with backends that set
    ``sampling = True``."""
    top_p: float = 1.0
    """Nucleus sampling mass (sampling only)."""
    proxy: ProxyOptions = field(default_factory=ProxyOptions)
    """The proxy backend's expert, anti-expert, α, prompt formats and small-model placement."""


PROXY_FIELDS = frozenset(f.name for f in fields(ProxyOptions))
"""Names that ``key=value`` backend options may give without the ``proxy.`` prefix."""


def with_overrides(options: BackendOptions, overrides: Sequence[str]) -> BackendOptions:
    """``options`` with ``key=value`` overrides applied, type-checked field by field.

    The overrides reach every field, including those only one backend reads, without the caller
    knowing them; the proxy fields may be named without their ``proxy.`` prefix (``alpha=0.5``).

    Raises:
        InputError: an unknown field, a value of the wrong type, an invalid proxy value.
    """
    routed = [f"proxy.{item}" if item.split("=", 1)[0].strip() in PROXY_FIELDS else item for item in overrides]
    return from_dict(BackendOptions, apply_overrides(to_dict(options), routed), where="backend options")


def flat_fields(options: BackendOptions) -> dict[str, Any]:
    """The fields as one flat mapping, the proxy's at the top level (as run records store them)."""
    flat = asdict(options)
    proxy = flat.pop("proxy")
    return {**flat, **proxy}
