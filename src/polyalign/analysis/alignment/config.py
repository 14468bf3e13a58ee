"""Settings of `polyalign analyze alignment` (saved as ``alignment_config.yaml`` in the output folder)."""

from __future__ import annotations

from dataclasses import dataclass

from polyalign.analysis.alignment.capture import SINK_RATIO
from polyalign.analysis.alignment.parallel_text import TEMPLATES
from polyalign.errors import InputError

__all__ = ["AlignmentConfig"]


@dataclass
class AlignmentConfig:
    """Settings of one alignment analysis (saved as ``alignment_config.yaml`` in the output folder)."""

    model: str
    """Model: zoo name, local folder or hub id."""
    parallel: list[str]
    """``lang=path`` items and/or QAlign-layout folders (see `polyalign.analysis.alignment.parallel_text`)."""
    out: str
    """Output folder."""
    langs: list[str] | None = None
    """Languages to compare with the pivot (default: all found)."""
    pivot: str = "en"
    """The language every other language is compared with."""
    template: str = "raw"
    """raw (sentence alone), alpaca (Alpaca prompt, pool all) or question (Alpaca prompt, pool the sentence)."""
    layers: list[int] | None = None
    """Hidden-state indices to analyse (0 = embeddings); None = all."""
    limit: int | None = None
    """First N usable pairs per language."""
    center: bool = True
    """Per-language mean-centring before cosine and retrieval."""
    skip_first_token: bool = True
    """Leave attention sinks out of the mean: the first token and massive-activation positions."""
    sink_ratio: float = SINK_RATIO
    """With skip_first_token: a position whose norm exceeds this multiple of its sentence's median
    (at any layer) is a sink too; 0 = the first token only."""
    compare_model: str | None = None
    """A second model analysed on the same sentences (e.g. after training)."""
    plot_layer: int | None = None
    """Layer of the PCA figure; default the layer with the best mean retrieval of the first model."""
    batch_size: int = 16
    """Sentences per forward pass."""
    max_length: int = 512
    """Inputs are truncated to this many tokens."""
    dtype: str = "float32"
    """Model weights dtype."""

    def validate(self) -> None:
        if self.template not in TEMPLATES:
            raise InputError(f"template: expected one of {', '.join(TEMPLATES)}, got {self.template!r}")
        if self.batch_size < 1 or self.max_length < 2:
            raise InputError("batch_size must be ≥ 1 and max_length ≥ 2")
        if self.limit is not None and self.limit < 2:
            raise InputError("limit: need at least 2 pairs per language (the baseline uses mismatched pairs)")
        if self.sink_ratio < 0 or 0 < self.sink_ratio <= 1:
            raise InputError(f"sink_ratio: expected 0 (off) or a multiple of the median norm > 1, "
                             f"got {self.sink_ratio}")
        if self.layers is not None and not self.layers:
            raise InputError("layers: give 'all' or a comma-separated list of layer numbers")
        if self.plot_layer is not None and self.layers is not None and self.plot_layer not in self.layers:
            raise InputError(f"plot_layer {self.plot_layer} is not among the layers to analyse {self.layers}")
