"""Grow a model's embeddings for new tokens and initialise the new rows.

LLaMA beyond English (Zhao et al. 2024) resizes the embeddings after extending the vocabulary; the
simple initialisations compared in the literature (WECHSEL, FOCUS, OFA find them about as good as
elaborate ones) are offered:

- ``subtoken-mean`` (default): the mean of the rows of the tokens the *old* tokenizer splits the new
  token into — the new token starts out meaning what its pieces meant;
- ``mean``: the mean of all old rows;
- ``mean-noise``: that mean plus Gaussian noise with a per-dimension standard deviation of
  ``noise_scale`` × the old rows' (a diagonal version of Hewitt 2021, "Initializing new word
  embeddings for pretrained language models").

Old rows are never touched, so before any training the model's logits over the old vocabulary are
exactly what they were. Tied embeddings (SmolLM2, the tiny test models) are one matrix; an untied
output layer (LLaMA-2) gets its new rows by the same rule applied to its own old rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Mapping, Sequence

if TYPE_CHECKING:
    import torch
    from tokenizers import Tokenizer
    from transformers import PreTrainedModel

__all__ = ["InitMethod", "INIT_METHODS", "init_rows", "subtoken_components", "resize_and_init"]

InitMethod = Literal["subtoken-mean", "mean", "mean-noise"]
INIT_METHODS: tuple[str, ...] = ("subtoken-mean", "mean", "mean-noise")


def init_rows(weight: torch.Tensor, new_ids: Sequence[int], old_vocab: int, *, method: InitMethod,
              components: Mapping[int, Sequence[int]] | None = None, noise_scale: float = 0.01,
              generator: torch.Generator | None = None) -> None:
    """Set rows ``new_ids`` of ``weight`` (vocabulary × hidden) in place from rows ``0 .. old_vocab - 1``.

    Args:
        weight: the embedding (or output) matrix, already resized.
        new_ids: rows to initialise, all ≥ ``old_vocab``.
        old_vocab: number of real old tokens (rows beyond it, such as padding rows, are not averaged).
        method: one of `INIT_METHODS`.
        components: for ``subtoken-mean``, new id → old ids of its pieces; a new id without pieces
            falls back to the mean of all old rows.
        noise_scale: for ``mean-noise``, noise std as a fraction of each dimension's std.
        generator: seeds the noise.
    """
    import torch

    if method not in INIT_METHODS:
        raise ValueError(f"unknown init method {method!r}; expected one of {', '.join(INIT_METHODS)}")
    if any(i < old_vocab for i in new_ids):
        raise ValueError("new ids must not overwrite old rows")
    old = weight[:old_vocab].detach().float()
    mean = old.mean(dim=0)
    if method == "mean":
        rows = mean.expand(len(new_ids), -1)
    elif method == "mean-noise":
        noise = torch.randn(len(new_ids), old.shape[1], generator=generator)
        rows = mean + noise * old.std(dim=0) * noise_scale
    else:
        components = components or {}
        rows = torch.stack([old[list(components[i])].mean(dim=0) if components.get(i) else mean for i in new_ids])
    with torch.no_grad():
        weight[list(new_ids)] = rows.to(weight.dtype)


def subtoken_components(old_backend: Tokenizer, tokens: Sequence[str], ids: Sequence[int]) -> dict[int, list[int]]:
    """New id → the old ids its token string splits into under the old tokenizer's BPE model.

    The string is given to the BPE model as it is stored (byte-level characters or ``▁`` pieces),
    which is exactly how the new token's text would have been tokenised before extension.
    """
    return {i: [t.id for t in old_backend.model.tokenize(token)] for token, i in zip(tokens, ids)}


def resize_and_init(model: PreTrainedModel, new_ids: Sequence[int], old_vocab: int, *, method: InitMethod,
                    components: Mapping[int, Sequence[int]] | None = None, seed: int = 0,
                    noise_scale: float = 0.01) -> dict[str, object]:
    """Resize input (and untied output) embeddings to fit ``new_ids`` and initialise those rows.

    Args:
        model: a transformers causal LM (modified in place).
        new_ids: the new tokens' ids.
        old_vocab: the old tokenizer's size (rows to average).
        method, components, noise_scale: see `init_rows`.
        seed: seeds the noise of ``mean-noise``.

    Returns:
        ``{"rows_before", "rows_after", "tied", "method"}`` for the run summary.
    """
    import torch

    before = model.get_input_embeddings().weight.shape[0]
    size = max(before, max(new_ids) + 1)
    # mean_resizing=False: transformers' own init would be overwritten below anyway
    model.resize_token_embeddings(size, mean_resizing=False)
    generator = torch.Generator().manual_seed(seed)
    inputs = model.get_input_embeddings().weight
    init_rows(inputs, new_ids, old_vocab, method=method, components=components, noise_scale=noise_scale,
              generator=generator)
    output = model.get_output_embeddings()
    tied = output is None or output.weight.data_ptr() == inputs.data_ptr()
    if not tied:
        init_rows(output.weight, new_ids, old_vocab, method=method, components=components,
                  noise_scale=noise_scale, generator=generator)
        bias = getattr(output, "bias", None)
        if bias is not None:
            with torch.no_grad():
                bias[list(new_ids)] = bias[:old_vocab].mean()
    return {"rows_before": before, "rows_after": size, "tied": tied, "method": method}
