"""The lang_match scorer: 1 in the prompt's language, 0 in another, None (no language) otherwise."""

from __future__ import annotations

import pytest

from polyalign.eval.scorers.language import lang_match


def test_lang_match() -> None:
    assert lang_match("天气很好，我们去公园吧。", "zh") == 1.0
    assert lang_match("The weather is nice, let's go to the park.", "zh") == 0.0
    assert lang_match("Das Wetter ist schön, lass uns in den Park gehen.", "de") == 1.0
    assert lang_match("Das Wetter ist schön, lass uns in den Park gehen.", "deu") == 1.0
    assert lang_match("### Response:\n### Response:", "de") is None


@pytest.mark.parametrize("text", ["", "### Response:\n### Response:", "</s></s>", "哈哈哈哈哈哈", "Hello world"])
def test_no_language_is_none_not_a_mismatch(text: str) -> None:
    assert lang_match(text, "zh") is None
