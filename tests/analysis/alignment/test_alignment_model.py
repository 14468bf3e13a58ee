"""Alignment on the tiny model: self-pairing is perfect, shuffled pairing is at chance, inputs load."""

from __future__ import annotations

import numpy as np
import pytest

from polyalign.analysis.alignment.metrics import pair_scores
from polyalign.analysis.alignment.parallel_text import ParallelSet, load_parallel
from polyalign.analysis.alignment.measure import measure_alignment
from polyalign.errors import InputError


def test_a_language_paired_with_itself_is_perfectly_aligned_at_every_layer(tiny, tmp_path, sample_pairs) -> None:
    model, tokenizer = tiny
    en = tmp_path / "sents.en"
    lines = (sample_pairs / "de-en" / "train.en").read_text(encoding="utf-8").splitlines()
    en.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sets = load_parallel([f"en={en}"], pivot="en", langs=["en"])
    for template in ("raw", "question"):
        result = measure_alignment(model, tokenizer, sets, template=template)
        assert result.layers == [0, 1, 2]
        for s in result.scores["en"]:
            assert s.cosine == pytest.approx(1.0, abs=1e-5)
            assert s.retrieval_to_pivot == 1.0 and s.retrieval_from_pivot == 1.0


def test_shuffled_pairs_give_chance_level_retrieval(tiny, sample_pairs) -> None:
    model, tokenizer = tiny
    (de,) = load_parallel([str(sample_pairs)], pivot="en", langs=["de"])
    n = len(de.texts)
    result = measure_alignment(model, tokenizer, [de], layers=[1])
    x, y = result.vectors["de"][0][0], result.vectors["de"][1][0]
    rng = np.random.default_rng(0)
    shuffled = [pair_scores(x, y[rng.permutation(n)]).retrieval_to_pivot for _ in range(300)]
    assert np.mean(shuffled) == pytest.approx(1 / n, abs=0.03)
    # the true pairing is far above chance even on a random tiny model (shared digits and names)
    assert result.scores["de"][0].retrieval_to_pivot > 3 / n


def test_qalign_folder_and_lang_path_items_load_the_same_pairs(sample_pairs) -> None:
    from_folder = load_parallel([str(sample_pairs)], pivot="en", limit=5)
    assert [s.lang for s in from_folder] == ["de", "es", "fr", "ja", "ru", "zh"]
    assert all(len(s.texts) == len(s.pivot_texts) == 5 for s in from_folder)
    (zh,) = load_parallel([f"zh={sample_pairs / 'zh-en' / 'train.zh'}", f"en={sample_pairs / 'zh-en' / 'train.en'}"],
                          pivot="en", limit=5)
    assert zh.texts == from_folder[-1].texts and zh.pivot_texts == from_folder[-1].pivot_texts
    (single,) = load_parallel([str(sample_pairs / "fr-en")], pivot="en")
    assert single.lang == "fr" and single.texts[0] == single.texts[0].strip()


def test_parallel_input_errors(tmp_path, sample_pairs) -> None:
    with pytest.raises(InputError, match="pivot"):
        load_parallel([f"de={sample_pairs / 'de-en' / 'train.de'}"], pivot="en")
    with pytest.raises(InputError, match="no parallel text for language 'sw'"):
        load_parallel([str(sample_pairs)], pivot="en", langs=["sw"])
    short = tmp_path / "a.de"
    short.write_text("eins\nzwei\n", encoding="utf-8")
    with pytest.raises(InputError, match="differ in length"):
        load_parallel([f"de={short}", f"en={sample_pairs / 'de-en' / 'train.en'}"], pivot="en")
    with pytest.raises(InputError, match="lang=path or a folder"):
        load_parallel([str(tmp_path / "missing")], pivot="en")


def test_parallel_set_needs_two_pairs_for_a_baseline() -> None:
    with pytest.raises(ValueError):
        pair_scores(np.ones((1, 4)), np.ones((1, 4)))
    assert ParallelSet("de", "en", ["a", "b"], ["c", "d"], "x").lang == "de"
