"""`polyalign compare` on replay runs: hand-computed Δ and McNemar p, reference bootstraps, sacrebleu's
paired test, refusal of runs that are not comparable, the CLI end to end and the report section."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from support.cli import run_cli
from scipy import stats as sps

from polyalign.cli.main import main
from polyalign.errors import InputError
from polyalign.eval.config import EvalConfig
from polyalign.eval.runner import run_eval
from polyalign.experiments import stats
from polyalign.experiments.compare import compare_runs

N = 40
# Items each system answers right (the others get a wrong number), per mGSM language.
RIGHT = {"base": {"en": set(range(20)), "de": set(range(12))},
         "sys": {"en": set(range(10)) | set(range(20, 34)), "de": set(range(30))}}
REFS = [f"Das ist der Satz Nummer {i} über ein kleines Haus am See." for i in range(N)]
SOURCES = [f"This is sentence number {i} about a small house by the lake." for i in range(N)]
CONTRACT = {"task", "lang", "metric", "system", "score", "baseline_score", "delta", "rel_gain", "ci_low", "ci_high",
            "p_value", "test", "n", "score_ci_low", "score_ci_high"}


def _translation(system: str, i: int) -> str:
    words = REFS[i].split()
    drop = 3 if system == "base" else (1 if i % 3 else 3)  # sys is better on two thirds of the sentences
    return " ".join(w for k, w in enumerate(words) if k % 4 != drop)


def _predictions(path: Path, system: str) -> Path:
    lines = [{"task": "mgsm", "lang": lang, "id": f"mgsm/{lang}/{i}",
              "output": f"The answer is {i + 1 if i in RIGHT[system][lang] else i + 1000}."}
             for lang in ("en", "de") for i in range(N)]
    lines += [{"task": "flores", "lang": "en-de", "id": f"flores/en-de/{i}", "output": _translation(system, i)}
              for i in range(N)]
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Replay runs over the same data: base, sys, a copy of base, and two that are not comparable."""
    root = tmp_path_factory.mktemp("compare")
    data = root / "data"
    (data / "mgsm").mkdir(parents=True)
    for lang in ("en", "de"):
        (data / f"mgsm/mgsm_{lang}.tsv").write_text("".join(f"Frage {i} ({lang})?\t{i + 1}\n" for i in range(N)),
                                                     encoding="utf-8")
    (data / "flores/devtest").mkdir(parents=True)
    (data / "flores/devtest/eng.devtest").write_text("\n".join(SOURCES) + "\n", encoding="utf-8")
    (data / "flores/devtest/deu.devtest").write_text("\n".join(REFS) + "\n", encoding="utf-8")
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("POLYALIGN_DATA_CACHE", str(root / "empty-cache"))
        for name, system, tasks, limit in (("base", "base", ["mgsm", "flores"], None),
                                           ("sys", "sys", ["mgsm", "flores"], None),
                                           ("short", "sys", ["mgsm", "flores"], 30), ("mgsm-only", "sys", ["mgsm"], None)):
            preds = _predictions(root / f"{name}.jsonl", system)
            run_eval(EvalConfig(tasks=tasks, langs=["en", "de"] + (["en-de"] if "flores" in tasks else []), out=str(root / name), backend="replay",
                                predictions=str(preds), data_dir=str(data), limit=limit))
            out[name] = root / name
    shutil.copytree(out["base"], root / "same")
    out["same"] = root / "same"
    return out


def _row(comparison: dict, task: str, lang: str, metric: str, system: str) -> dict:
    [row] = [r for r in comparison["rows"] if (r["task"], r["lang"], r["metric"], r["system"]) == (task, lang, metric, system)]
    return row


def _binom_two_sided(b: int, c: int) -> float:
    """Exact McNemar by hand: twice the smaller binomial tail of the discordant pairs, capped at 1."""
    m, k = b + c, min(b, c)
    return min(1.0, 2 * sum(math.comb(m, j) for j in range(k + 1)) / 2 ** m)


def test_delta_mcnemar_and_averages_hand_computed(runs):
    comparison = compare_runs({"base": runs["base"], "sys": runs["sys"], "same": runs["same"]}, "base", seed=1)
    assert comparison["baseline"] == "base" and comparison["systems"] == ["sys", "same"]
    assert all(CONTRACT <= set(row) for row in comparison["rows"])
    en, de = _row(comparison, "mgsm", "en", "acc", "sys"), _row(comparison, "mgsm", "de", "acc", "sys")
    assert (en["score"], en["baseline_score"], en["n"]) == (24 / 40, 20 / 40, 40)
    assert math.isclose(en["delta"], 4 / 40) and math.isclose(en["rel_gain"], (24 - 20) / 20)
    # en: 14 items right only for sys, 10 only for base; de: 18 and 0
    assert en["test"] == "mcnemar-exact" and math.isclose(en["p_value"], _binom_two_sided(14, 10))
    assert math.isclose(de["p_value"], 2 / 2 ** 18) and math.isclose(de["delta"], 18 / 40)
    base_row = _row(comparison, "mgsm", "de", "acc", "base")
    assert (base_row["delta"], base_row["p_value"], base_row["test"], base_row["ci_low"]) == (0.0, None, None, 0.0)
    same = _row(comparison, "mgsm", "en", "acc", "same")
    assert (same["delta"], same["p_value"], same["ci_low"], same["ci_high"]) == (0.0, 1.0, 0.0, 0.0)
    avg = _row(comparison, "mgsm", "avg", "acc", "sys")
    assert math.isclose(avg["delta"], (4 / 40 + 18 / 40) / 2) and avg["n"] == 80
    assert math.isclose(avg["rel_gain"], avg["delta"] / ((20 + 12) / 80))
    assert math.isclose(avg["rel_gain_lang_mean"], (4 / 20 + 18 / 12) / 2)
    assert math.isclose(_row(comparison, "mgsm", "avg_no_en", "acc", "sys")["delta"], 18 / 40)
    results = json.loads((runs["sys"] / "results.json").read_text())["results"]
    assert en["score"] == results["mgsm"]["en"]["acc"]


def test_intervals_match_reference_bootstraps(runs):
    comparison = compare_runs({"base": runs["base"], "sys": runs["sys"]}, "base", metrics=["acc"], seed=7,
                              resamples=20000)
    x = {s: {lang: np.array([float(i in RIGHT[s][lang]) for i in range(N)]) for lang in ("en", "de")} for s in RIGHT}
    tolerance = 1.5 / N  # two Monte Carlo estimates of the same percentiles, on a lattice of 1/N
    for lang in ("en", "de"):
        row = _row(comparison, "mgsm", lang, "acc", "sys")
        ref = sps.bootstrap((x["sys"][lang], x["base"][lang]), lambda s, b, axis=-1: s.mean(axis) - b.mean(axis),
                            paired=True, vectorized=True, n_resamples=20000, method="percentile",
                            random_state=np.random.default_rng(3)).confidence_interval
        assert abs(row["ci_low"] - ref.low) <= tolerance and abs(row["ci_high"] - ref.high) <= tolerance
        own = sps.bootstrap((x["sys"][lang],), np.mean, n_resamples=20000, method="percentile",
                            random_state=np.random.default_rng(4)).confidence_interval
        assert abs(row["score_ci_low"] - own.low) <= tolerance and abs(row["score_ci_high"] - own.high) <= tolerance
    # the average's interval: items resampled within each language, languages averaged per replicate
    rng = np.random.default_rng(5)
    reps = np.mean([(x["sys"][lang] - x["base"][lang])[rng.integers(0, N, (20000, N))].mean(1)
                    for lang in ("en", "de")], axis=0)
    low, high = np.percentile(reps, [2.5, 97.5])
    avg = _row(comparison, "mgsm", "avg", "acc", "sys")
    assert abs(avg["ci_low"] - low) <= tolerance / 2 and abs(avg["ci_high"] - high) <= tolerance / 2


def test_corpus_metrics_use_sacrebleus_paired_bootstrap(runs, monkeypatch):
    from sacrebleu.metrics import BLEU, CHRF
    from sacrebleu.significance import PairedTest

    comparison = compare_runs({"base": runs["base"], "sys": runs["sys"]}, "base", metrics=["bleu", "chrf++"], seed=2)
    hyps = {s: [_translation(s, i) for i in range(N)] for s in ("base", "sys")}
    stream = stats.stream_seed(2, "flores", "en-de")
    monkeypatch.setenv("SACREBLEU_SEED", str(stream))  # sacrebleu's public test takes its seed from here
    for metric, scorer, key in (("bleu", BLEU(tokenize="13a"), "BLEU"), ("chrf++", CHRF(word_order=2), "chrF2++")):
        row = _row(comparison, "flores", "en-de", metric, "sys")
        assert math.isclose(row["score"], scorer.corpus_score(hyps["sys"], [REFS]).score)
        assert row["test"] == "paired-bootstrap" and row["ci_low"] < row["delta"] < row["ci_high"]
        _, scores = PairedTest([("base", hyps["base"]), ("sys", hyps["sys"])], {metric: scorer}, [REFS],
                               test_type="bs", n_samples=2000)()
        assert math.isclose(row["p_value"], scores[key][1].p_value)


def test_files_are_written(runs, tmp_path):
    compare_runs({"base": runs["base"], "sys": runs["sys"]}, "base", metrics=["acc"], out=tmp_path / "c")
    saved = json.loads((tmp_path / "c/comparison.json").read_text(encoding="utf-8"))
    assert saved["provenance"]["seed"] == 0 and saved["provenance"]["resamples"] == 2000
    assert "| en | sys | 60.0 |" in (tmp_path / "c/comparison.md").read_text(encoding="utf-8")
    csv = (tmp_path / "c/comparison.csv").read_text(encoding="utf-8").splitlines()
    assert csv[0].startswith("task,lang,metric,system,score,baseline_score,delta") and len(csv) == 1 + len(saved["rows"])


def _edited(runs: dict[str, Path], tmp_path: Path, edit) -> Path:
    copy = tmp_path / "edited"
    shutil.copytree(runs["sys"], copy)
    edit(copy)
    return copy


def _edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _edit_sample(path: Path, field: str, value) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[3])
    record[field] = value
    lines[3] = json.dumps(record, ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("case,message", [
    ("short", "runs differ in items: mgsm en has 40 scored items in base, 30 in other (mgsm/en/30 only in base)"),
    ("mgsm-only", "runs differ in tasks: flores, mgsm in base, mgsm in other"),
    ("protocol", "runs differ in protocol: 'polyalign' in base, 'paper' in other"),
    ("version", "runs differ in task versions (mgsm): 1.1 in base, 2.0 in other"),
    ("prompt", "runs differ in prompts: the prompt of mgsm/de/3 in base is not the one in other"),
    ("target", "runs differ in items: mgsm/de/3 has target 4.0 in base, 5.0 in other"),
])
def test_runs_that_are_not_comparable_exit_2_with_one_line(runs, tmp_path, capsys, case, message):
    edits = {
        "protocol": lambda d: _edit_json(d / "results.json", lambda j: j.update(protocol="paper")),
        "version": lambda d: _edit_json(d / "results.json", lambda j: j["provenance"]["task_versions"].update(mgsm=2.0)),
        "prompt": lambda d: _edit_sample(d / "samples/mgsm_de.jsonl", "prompt", "Another prompt"),
        "target": lambda d: _edit_sample(d / "samples/mgsm_de.jsonl", "target", 5.0),
    }
    other = runs[case] if case in runs else _edited(runs, tmp_path, edits[case])
    named = tmp_path / "other"
    shutil.copytree(other, named)  # the run's name is its folder name
    (tmp_path / "base").symlink_to(runs["base"])
    code = main(["compare", str(named), "--baseline", str(tmp_path / "base"), "--out", str(tmp_path / "c")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and message in err, err
    assert not (tmp_path / "c").exists()


def test_bad_usage_exits_2(runs, tmp_path, capsys):
    for args, message in ((["--metric", "acc", "bleu", "nope"], "metric 'nope' is in none of the runs' results"),
                          (["--resamples", "500"], "--resamples must be at least 2000, not 500"),
                          (["--protocol", "paper"], "scored under protocol 'polyalign', not 'paper'")):
        code = main(["compare", str(runs["sys"]), "--baseline", str(runs["base"]), "--out", str(tmp_path / "c"), *args])
        err = capsys.readouterr().err.strip()
        assert code == 2 and len(err.splitlines()) == 1 and message in err, err
    code = main(["compare", str(runs["sys"]), "--baseline", str(tmp_path / "nothing")])
    assert code == 2 and "results.json: not found" in capsys.readouterr().err


@pytest.mark.e2e
def test_cli_end_to_end_and_report(runs, tmp_path):
    out = tmp_path / "cmp"
    done = run_cli("compare", str(runs["sys"]), str(runs["same"]), "--baseline", str(runs["base"]), "--metric", "acc",
                   "--metric", "chrf++", "--out", str(out), "--seed", "3")
    assert done.returncode == 0, done.stderr
    assert "### mgsm · acc" in done.stdout and "### flores · chrf++" in done.stdout
    comparison = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    assert comparison["systems"] == ["sys", "same"] and {r["metric"] for r in comparison["rows"]} == {"acc", "chrf++"}
    assert {r["lang"] for r in comparison["rows"] if r["task"] == "mgsm"} == {"en", "de", "avg", "avg_no_en", "avg_paper"}  # results.json lists mgsm's paper set
    report = run_cli("report", str(out))
    assert report.returncode == 0, report.stderr
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Comparison against base" in html and html.count("data:image/png;base64,") >= 4


def _hand_run(folder: Path, f1: dict[str, list[float]], paper_langs: list[str]) -> Path:
    """A run folder written by hand in the eval contract: results.json with averages, and samples/."""
    results = {"xquad": {lang: {"f1": float(np.mean(v)), "n": len(v)} for lang, v in f1.items()}}
    averages = {"xquad": {"avg_paper": {"f1": float(np.mean([results["xquad"][lang]["f1"] for lang in paper_langs])),
                                        "langs": paper_langs}}}
    (folder / "samples").mkdir(parents=True)
    for lang, values in f1.items():
        lines = [{"id": f"xquad/{lang}/{i}", "index": i, "prompt": f"Q{i}", "output": "x", "target": ["a"],
                  "metrics": {"f1": v}} for i, v in enumerate(values)]
        (folder / f"samples/xquad_{lang}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    (folder / "results.json").write_text(json.dumps({"results": results, "averages": averages, "protocol": "paper",
                                                     "provenance": {"task_versions": {"xquad": 1}}}))
    return folder


def test_continuous_metric_and_the_papers_average(tmp_path):
    rng = np.random.default_rng(0)
    base = {lang: list(rng.uniform(0, 1, 30)) for lang in ("en", "de", "zh")}
    better = {lang: [min(1.0, v + 0.2) for v in values] for lang, values in base.items()}
    runs = {"b": _hand_run(tmp_path / "b", base, ["de", "zh"]), "s": _hand_run(tmp_path / "s", better, ["de", "zh"])}
    comparison = compare_runs(runs, "b", protocol="paper")
    row = _row(comparison, "xquad", "de", "f1", "s")
    assert row["test"] == "paired-bootstrap-two-sided" and row["p_value"] < 0.01 and row["ci_low"] > 0
    paper = _row(comparison, "xquad", "avg_paper", "f1", "s")
    assert paper["langs"] == ["de", "zh"] and paper["n"] == 60
    expected = np.mean([np.mean(better[lang]) - np.mean(base[lang]) for lang in ("de", "zh")])
    assert math.isclose(paper["delta"], expected)
    assert math.isclose(paper["baseline_score"], json.loads((runs["b"] / "results.json").read_text())
                        ["averages"]["xquad"]["avg_paper"]["f1"])
    with pytest.raises(InputError, match="paper's averaging languages"):
        compare_runs({**runs, "o": _hand_run(tmp_path / "o", better, ["zh"])}, "b")


def test_other_recorded_versions_must_agree(runs, tmp_path):
    other = _edited(runs, tmp_path, lambda d: _edit_json(d / "results.json",
                                                         lambda j: j["provenance"].update(scorer_versions={"qa": 2})))
    with pytest.raises(InputError, match=r"runs differ in scorer versions: None in base, \{'qa': 2\} in sys"):
        compare_runs({"base": runs["base"], "sys": other}, "base")


def test_report_section_says_what_it_could_not_read(tmp_path):
    from polyalign.report.sections.comparison import render

    assert "comparison.json not found" in render(tmp_path)
    (tmp_path / "comparison.json").write_text("{", encoding="utf-8")
    assert "not readable JSON" in render(tmp_path)
