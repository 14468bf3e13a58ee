"""One benchmark = one folder: a toy benchmark added in a temporary folder runs end to end.

Nothing inside polyalign is edited: the folder holds the metadata row and reader (``benchmark.py``),
the lm-eval template and hooks, and is found through ``$POLYALIGN_TASKS_PATH``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from polyalign.eval import taskgen
from polyalign.eval.benchmarks import BENCHMARKS, get_benchmark
from polyalign.eval.config import EvalConfig
from polyalign.eval.runner import run_eval

BENCHMARK_PY = '''
from pathlib import Path
from typing import Any

from polyalign.eval.taskspec import Benchmark


def read(paths: list[Path], key: str) -> list[dict[str, Any]]:
    """Lines 'question = answer', one per item."""
    rows = [line.split("=") for line in paths[0].read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{"question": q.strip(), "answer": float(a)} for q, a in rows]


BENCHMARK = Benchmark("toyarith", "numeric", ("en", "de"), lambda lang: (f"toyarith/{lang}.txt",), read,
                      "written by the test")
'''

UTILS_PY = '''
from typing import Any

from polyalign.eval.documents import load_dataset
from polyalign.eval.metrics import process_results


def load(**kwargs: Any) -> Any:
    return load_dataset("toyarith", **kwargs)
'''

TEMPLATE = """custom_dataset: !function utils.load
test_split: test
output_type: generate_until
doc_to_text: prompt
doc_to_target: target
process_results: !function utils.process_results
generation_kwargs:
  until: ["### Instruction"]
  max_gen_toks: 16
  do_sample: false
metric_list:
  - {metric: acc, aggregation: mean, higher_is_better: true}
  - {metric: acc_paper, aggregation: mean, higher_is_better: true}
  - {metric: lang_match, aggregation: mean, higher_is_better: true}
  - {metric: lang_none, aggregation: mean, higher_is_better: false}
metadata:
  version: 1.0
"""


@pytest.fixture()
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    tasks = tmp_path / "my-tasks"
    folder = tasks / "toyarith"
    folder.mkdir(parents=True)
    (folder / "benchmark.py").write_text(BENCHMARK_PY, encoding="utf-8")
    (folder / "utils.py").write_text(UTILS_PY, encoding="utf-8")
    (folder / "_template_yaml").write_text(TEMPLATE, encoding="utf-8")
    monkeypatch.setenv("POLYALIGN_TASKS_PATH", str(tasks))
    bench = get_benchmark("toyarith")
    assert taskgen.write_files(tasks, [bench])  # the per-language YAMLs, generated as for shipped tasks
    data = tmp_path / "data" / "toyarith"
    data.mkdir(parents=True)
    (data / "en.txt").write_text("two plus two = 4\nten minus three = 7\n", encoding="utf-8")
    (data / "de.txt").write_text("zwei plus zwei = 4\n", encoding="utf-8")
    return tmp_path


def test_a_benchmark_in_its_own_folder_runs_end_to_end(toy: Path):
    assert "toyarith" in BENCHMARKS and "mgsm" in BENCHMARKS
    preds = toy / "preds.jsonl"
    preds.write_text("".join(json.dumps({"task": "toyarith", "lang": lang, "id": f"toyarith/{lang}/{i}",
                                         "output": out}) + "\n"
                             for lang, i, out in (("en", 0, "The answer is 4."), ("en", 1, "6"),
                                                  ("de", 0, "Die Antwort ist 4."))), encoding="utf-8")
    doc = run_eval(EvalConfig(tasks=["toyarith"], out=str(toy / "out"), backend="replay", predictions=str(preds),
                              data_dir=str(toy / "data")))
    assert doc["results"]["toyarith"]["en"]["acc"] == 0.5 and doc["results"]["toyarith"]["de"]["acc"] == 1.0
    assert doc["averages"]["toyarith"]["avg"] == {**doc["averages"]["toyarith"]["avg"], "acc": 0.75,
                                                  "langs": ["en", "de"]}
    sample = json.loads((toy / "out/samples/toyarith_en.jsonl").read_text(encoding="utf-8").splitlines()[0])
    # the generic numeric prompt: the question as the Alpaca instruction
    assert sample["prompt"].endswith("### Instruction:\ntwo plus two\n\n### Response:") and sample["target"] == 4.0
    assert doc["provenance"]["task_versions"] == {"toyarith": 1.0}


def test_a_folder_whose_benchmark_is_misnamed_is_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from polyalign.errors import InputError

    folder = tmp_path / "t" / "other"
    folder.mkdir(parents=True)
    (folder / "benchmark.py").write_text(BENCHMARK_PY, encoding="utf-8")
    monkeypatch.setenv("POLYALIGN_TASKS_PATH", str(tmp_path / "t"))
    with pytest.raises(InputError, match="folder is 'other'"):
        get_benchmark("mgsm")
