"""Golden tests of the two evaluation protocols: fixed outputs replayed through ``polyalign`` and ``paper``.

Every expectation is computed by hand from the papers' released code (docs/methods.md, protocol
table); the quirks each benchmark reproduces under ``paper`` are named in the test names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from polyalign import langs
from polyalign.eval.averages import averages, mean_over
from polyalign.infer.backends import BackendOptions, GenRequest
from polyalign.eval.config import EvalConfig
from polyalign.eval.documents import build_docs
from polyalign.eval.runner import run_eval
from polyalign.errors import InputError


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _squad(qas: list[tuple[str, list[str]]]) -> str:
    return json.dumps({"data": [{"paragraphs": [{"context": "Paris and Berlin Mitte.", "qas": [
        {"id": f"q{i}", "question": q, "answers": [{"text": a, "answer_start": 0} for a in answers]}
        for i, (q, answers) in enumerate(qas)]}]}]})


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    for lang in ("en", "de", "te"):
        _write(root / f"mgsm/mgsm_{lang}.tsv", "Q0\t18\nQ1\t-5\nQ2\t0\n")
    for lang in ("en", "de"):
        _write(root / f"msvamp/test_{langs.get(lang).name}.json",
               "".join(json.dumps({"m_query": f"Q{i}", "response": g}) + "\n" for i, g in enumerate(["18", "-5"])))
    for lang in ("en", "zh"):
        _write(root / f"xquad/xquad.{lang}.json", _squad([("Capital?", ["Paris", "Paris city"]),
                                                          ("District?", ["Berlin Mitte", "Berlin"])]))
    for code, text in (("en", "Hello world."), ("el", "Γεια σου κόσμε.")):
        _write(root / f"flores/devtest/{langs.get(code).flores}.devtest", text + "\n")
    _write(root / "ceval/val/high_school_physics_val.csv", "id,question,A,B,C,D,answer\n0,问?,a,b,c,d,B\n")
    _write(root / "ceval/dev/high_school_physics_dev.csv", "id,question,A,B,C,D,answer,explanation\n0,例?,a,b,c,d,C,x\n")
    return root


OUTPUTS = {
    # gold 18, -5, 0: "5" for -5 is wrong for acc and right for acc_paper (QAlign reads the gold
    # through extract_last_num too); "no number" reads as 0.0 under the papers' rule.
    "mgsm": {"en": ["18", "The answer is 5.", "no number"], "de": ["18", "5", "nichts"], "te": ["", "", ""]},
    "msvamp": {"en": ["18", "-5"], "de": ["17", "5"]},
    # x-LLaMA matches only the first gold (answers[0]) in the stripped prediction
    "xquad": {"en": ["  It is paris.\n", "Berlin"], "zh": ["Paris", "Berlin Mitte"]},
    "flores": {"en-el": ["Γεια σου κόσμε.\nNote: Greek."]},
    "ceval": {"zh": ["B"]},
}


def _predictions(path: Path, order: int = 1) -> Path:
    lines = [{"task": task, "lang": lang, "id": f"{task}/{lang}/{i}", "output": out}
             for task, per_lang in OUTPUTS.items() for lang, outs in per_lang.items() for i, out in enumerate(outs)]
    _write(path, "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines[::order]))
    return path


def _run(tmp_path: Path, data: Path, protocol: str, name: str, **kw: Any) -> dict[str, Any]:
    """One replay run per task (each task has its own languages here), merged into one document."""
    order = kw.pop("order", 1)
    merged: dict[str, Any] = {"results": {}, "averages": {}}
    for task in ("mgsm", "msvamp", "xquad", "flores"):
        cfg = dict(tasks=[task], langs=list(OUTPUTS[task]), backend="replay",
                   predictions=str(_predictions(tmp_path / f"{name}.jsonl", order)), data_dir=str(data),
                   out=str(tmp_path / name / task), protocol=protocol)
        doc = run_eval(EvalConfig(**{**cfg, **kw}))
        merged["results"].update(doc["results"])
        merged["averages"].update(doc["averages"])
        merged["protocol"] = doc["protocol"]
        merged.setdefault("provenance", {"decoding": {"tasks": {}}, "metric_signatures": {}})
        merged["provenance"]["decoding"]["tasks"].update(doc["provenance"]["decoding"]["tasks"])
        merged["provenance"]["metric_signatures"].update(doc["provenance"]["metric_signatures"])
    return merged


def test_numeric_acc_paper_reads_the_gold_like_the_output_in_both_protocols(tmp_path, data):
    for protocol in ("polyalign", "paper"):
        doc = _run(tmp_path, data, protocol, protocol)
        mgsm = doc["results"]["mgsm"]
        assert (mgsm["en"]["acc"], mgsm["en"]["acc_paper"]) == (pytest.approx(1 / 3), 1.0)
        assert (mgsm["de"]["acc"], mgsm["de"]["acc_paper"]) == (pytest.approx(1 / 3), 1.0)
        assert (mgsm["te"]["acc"], mgsm["te"]["acc_paper"]) == (0.0, pytest.approx(1 / 3))  # gold 0 == no number
        msvamp = doc["results"]["msvamp"]
        assert (msvamp["en"]["acc"], msvamp["en"]["acc_paper"]) == (1.0, 1.0)
        assert (msvamp["de"]["acc"], msvamp["de"]["acc_paper"]) == (0.0, 0.5)  # "5" for -5 counts in the paper rule


def test_averages_are_explicit_and_the_mgsm_paper_average_leaves_telugu_out(tmp_path, data):
    doc = _run(tmp_path, data, "paper", "run")
    avg = doc["averages"]["mgsm"]
    assert avg["avg"]["langs"] == ["en", "de", "te"] and avg["avg"]["acc_paper"] == pytest.approx(7 / 9)
    assert avg["avg_no_en"]["langs"] == ["de", "te"] and avg["avg_no_en"]["acc_paper"] == pytest.approx(2 / 3)
    # QAlign's mgsm_test.py averages sw en zh bn de es fr ja ru th: no Telugu
    paper = avg["avg_paper"]
    assert (paper["langs"], paper["acc"], paper["acc_paper"]) == (["en", "de"], pytest.approx(1 / 3), 1.0)
    assert set(paper) == {"acc", "acc_paper", "lang_match", "lang_none", "langs"}
    assert "n" not in avg["avg"]
    # x-LLaMA averages its six languages: only zh of them was evaluated here
    assert doc["averages"]["xquad"]["avg_paper"]["langs"] == ["zh"]
    assert doc["averages"]["flores"]["avg_paper"]["langs"] == ["en-el"]


def test_xquad_contains_matches_only_the_first_gold_under_paper(tmp_path, data):
    poly = _run(tmp_path, data, "polyalign", "poly")["results"]["xquad"]
    paper = _run(tmp_path, data, "paper", "paper")["results"]["xquad"]
    # en: q0 "paris" in "it is paris." (both); q1 "Berlin": any gold (polyalign) vs "berlin mitte" (paper)
    assert (poly["en"]["contains"], paper["en"]["contains"]) == (1.0, 0.5)
    assert (poly["zh"]["contains"], paper["zh"]["contains"]) == (1.0, 1.0)
    assert poly["en"]["em"] == paper["en"]["em"] == 0.5 and poly["en"]["f1"] == paper["en"]["f1"]


def test_flores_paper_scores_every_line_and_names_languages_as_x_llama(tmp_path, data):
    from sacrebleu.metrics import BLEU

    poly = _run(tmp_path, data, "polyalign", "poly")
    paper = _run(tmp_path, data, "paper", "paper")
    assert poly["results"]["flores"]["en-el"]["bleu"] == pytest.approx(100.0)  # first line only
    full = "Γεια σου κόσμε.\nNote: Greek."
    expected = BLEU(tokenize="13a").corpus_score([full], [["Γεια σου κόσμε."]]).score
    assert paper["results"]["flores"]["en-el"]["bleu"] == pytest.approx(expected) and expected < 100
    samples = {p: json.loads((tmp_path / p / "flores/samples/flores_en-el.jsonl").read_text(encoding="utf-8"))
               for p in ("poly", "paper")}
    assert samples["poly"]["extracted"] == "Γεια σου κόσμε." and samples["paper"]["extracted"] == full
    assert "from English to Greek." in samples["poly"]["prompt"]
    assert "from English to Modern Greek (1453-)." in samples["paper"]["prompt"]  # iso639 names
    assert samples["paper"]["protocol"] == "paper" and samples["poly"]["protocol"] == "polyalign"


def test_results_record_the_protocol_and_the_paper_decoding(tmp_path, data):
    poly, paper = _run(tmp_path, data, "polyalign", "poly"), _run(tmp_path, data, "paper", "paper")
    assert (poly["protocol"], paper["protocol"]) == ("polyalign", "paper")
    dec = {name: doc["provenance"]["decoding"]["tasks"] for name, doc in (("poly", poly), ("paper", paper))}
    assert dec["poly"]["mgsm"] == {"max_new_tokens": 600, "until": ["### Instruction", "\n\n### "]}
    assert dec["paper"]["mgsm"] == {"max_new_tokens": 600, "until": []}
    assert dec["paper"]["msvamp"] == {"max_new_tokens": 300, "until": []}
    assert dec["poly"]["xquad"]["max_new_tokens"] == 64 and dec["paper"]["xquad"] == {"max_new_tokens": 512, "until": []}
    assert dec["paper"]["flores"] == {"max_new_tokens": 512, "until": []}
    assert "eff:yes" in paper["provenance"]["metric_signatures"]["flores"]["en-el"]["spbleu"]


class _Recorder:
    """A backend returning fixed text and recording each request's stops and limit."""

    name = "recorder"

    def __init__(self) -> None:
        self.options = BackendOptions(model="none")
        self.requests: list[GenRequest] = []

    def generate(self, requests):
        self.requests.extend(requests)
        return ["The answer is 18. ### Instruction: 3"] * len(requests)

    def loglikelihood(self, pairs):
        raise AssertionError("not used")

    def chat_template(self):
        return None

    def provenance(self):
        return {"model": "recorder"}


@pytest.mark.parametrize("protocol, until", [("polyalign", ("### Instruction", "\n\n### ")), ("paper", ())])
def test_mgsm_requests_decode_to_600_tokens_without_stops_under_paper(tmp_path, data, protocol, until):
    backend = _Recorder()
    run_eval(EvalConfig(tasks=["mgsm"], langs=["en"], model="none", data_dir=str(data), out=str(tmp_path / "o"),
                        protocol=protocol), backend=backend)
    assert {(r.until, r.max_new_tokens) for r in backend.requests} == {(until, 600)}
    # the prompt is QAlign's Alpaca prompt without input, ending in "### Response:"
    assert backend.requests[0].prompt.endswith("### Instruction:\nQ0\n\n### Response:")


def test_ceval_header_names_the_subject_in_chinese(data):
    [doc] = build_docs("ceval", "zh", data_dir=data, prompt="fewshot")
    assert doc["prompt"].startswith("以下是中国关于高中物理考试的单项选择题，请选出其中的正确答案。\n\n例?\nA. a")
    assert "\n答案：C\n\n问?" in doc["prompt"] and doc["prompt"].endswith("\n答案：")  # no space, as the reference


def test_numbers_do_not_depend_on_item_order_or_batch_size(tmp_path, data):
    base = _run(tmp_path, data, "paper", "b1", batch_size=1)
    for name, kw in (("b3", {"batch_size": 3}), ("rev", {"order": -1, "batch_size": 2})):
        doc = _run(tmp_path, data, "paper", name, **kw)
        assert doc["results"] == base["results"] and doc["averages"] == base["averages"], name
    shuffled = {k: base["results"]["mgsm"][k] for k in ("te", "en", "de")}
    assert mean_over(shuffled, ["te", "de", "en"])["acc_paper"] == base["averages"]["mgsm"]["avg"]["acc_paper"]
    assert averages({"mgsm": shuffled})["mgsm"]["avg_paper"]["acc"] == base["averages"]["mgsm"]["avg_paper"]["acc"]


def test_unknown_protocol_is_bad_input(tmp_path):
    with pytest.raises(InputError, match="--protocol"):
        EvalConfig(tasks=["mgsm"], out=str(tmp_path), backend="replay", protocol="exact").validate()


@pytest.mark.slow
def test_real_mgsm_files_replay_through_both_protocols(shared_data, tmp_path):
    """The shipped MGSM files: gold sentences score 1 under both protocols; the paper average has no te."""
    preds = tmp_path / "gold.jsonl"
    lines = []
    for lang in langs.MGSM_LANGS:
        for doc in build_docs("mgsm", lang, data_dir=shared_data)[:5]:
            lines.append({"task": "mgsm", "lang": lang, "id": doc["id"], "output": f"The answer is {doc['target']}."})
    _write(preds, "".join(json.dumps(line) + "\n" for line in lines))
    for protocol in ("polyalign", "paper"):
        doc = run_eval(EvalConfig(tasks=["mgsm"], out=str(tmp_path / protocol), backend="replay", predictions=str(preds),
                                  data_dir=str(shared_data), limit=5, protocol=protocol))
        assert all(v["acc"] == v["acc_paper"] == 1.0 for v in doc["results"]["mgsm"].values())
        assert doc["averages"]["mgsm"]["avg_paper"]["langs"] == ["sw", "en", "zh", "bn", "de", "es", "fr", "ja", "ru", "th"]
        assert len(doc["averages"]["mgsm"]["avg"]["langs"]) == 11 and doc["protocol"] == protocol
