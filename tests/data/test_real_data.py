"""Slow: the shipped stage-I recipe on the real QAlign question pairs in ../shared/data."""

import json

import pytest
from support.cli import run_cli

pytestmark = pytest.mark.slow

EXPECTED = {"de": 7464, "es": 7468, "fr": 7464, "ja": 7466, "ru": 7360, "sw": 7469, "zh": 7363}


@pytest.mark.e2e
def test_qalign_stage1_on_real_pairs(tmp_path, shared_data):
    done = run_cli("data", "build", "qalign-stage1", f"data_root={shared_data / 'qalign-question-pairs'}",
                   "langs=[de,es,fr,ja,ru,sw,zh]", f"out={tmp_path / 'qa1'}", "--no-progress")
    assert done.returncode == 0, done.stderr
    card = json.loads((tmp_path / "qa1" / "data_card.json").read_text(encoding="utf-8"))
    assert card["splits"]["train"]["languages"] == EXPECTED
    assert card["files"]["train.jsonl"]["examples"] == sum(EXPECTED.values()) == 52054
    records = {}
    with (tmp_path / "qa1" / "train.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            records[record["id"]] = record
    first_de = (shared_data / "qalign-question-pairs/de-en/train.de").read_text(encoding="utf-8").splitlines()[0]
    first_en = (shared_data / "qalign-question-pairs/de-en/train.en").read_text(encoding="utf-8").splitlines()[0]
    assert records["question-alignment-de/0"]["prompt"] == (
        "Below is an instruction that describes a task. Write a response that appropriately completes the request."
        f"\n\n### Instruction:\nTranslate the following sentences from German to English. {first_de.strip()}"
        "\n\n### Response:")
    assert records["question-alignment-de/0"]["completion"] == first_en.strip()
    assert "from Swahili (macrolanguage) to English. " in records["question-alignment-sw/0"]["prompt"]
