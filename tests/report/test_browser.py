"""The report of a real tiny-model run (train → eval → analyze) in headless Chromium.

Slow: trains and evaluates the session's tiny model, then renders the report in Debian's chromium
with background networking off and every host name unresolvable. Checks the screenshot is not blank,
the rendered DOM holds the tables and figures, the console stayed silent, and the page asked for
nothing over the network (Chromium's net log lists no request made on behalf of the file:// page).
Skipped when chromium is not installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from polyalign.report import build_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--hide-scrollbars", "--host-resolver-rules=MAP * ~NOTFOUND"]

GERMAN = ["Wie viele Äpfel hat Anna?", "Wo wohnt der Hund?", "Was kostet das Brot?", "Wer kommt morgen?"]
ENGLISH = ["How many apples does Anna have?", "Where does the dog live?", "What does the bread cost?",
           "Who is coming tomorrow?"]


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                          timeout=180)


@pytest.fixture(scope="module")
def real_run(tmp_path_factory, tiny_model) -> Path:
    """train (one LoRA stage with evaluation) + eval (qtrans de-en, zh-en) + analyze language, on the tiny model."""
    import json

    import torch
    import yaml

    from polyalign.cli.main import main
    from polyalign.config import load_config
    from polyalign.eval.config import EvalConfig
    from polyalign.eval.runner import run_eval
    from polyalign.train.config import TrainRecipe
    from polyalign.train.recipe import run_recipe

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("real-run")
    data = root / "data"
    chinese = ["安娜有多少个苹果？", "狗住在哪里？", "面包多少钱？", "明天谁来？"]
    for lang, lines in (("de", GERMAN), ("zh", chinese)):
        folder = data / "qtrans" / f"{lang}-en"
        folder.mkdir(parents=True)
        (folder / f"test.{lang}").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (folder / "test.en").write_text("\n".join(ENGLISH) + "\n", encoding="utf-8")
    train = root / "train.jsonl"
    train.write_text("".join(json.dumps({"id": f"t/{i}", "lang": "de", "source": "test",
                                         "prompt": f"Translate: {q}\n### Response:", "completion": f" {a}"}) + "\n"
                             for i, (q, a) in enumerate(zip(GERMAN * 4, ENGLISH * 4))), encoding="utf-8")
    recipe = root / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({"name": "browser-check", "model": tiny_model, "out": str(root / "run" / "train"),
                                      "seed": 3, "stages": [{
                                          "name": "question-alignment", "type": "sft", "data": str(train),
                                          "eval_data": str(train), "eval_steps": 2, "finetune": "lora",
                                          "lora": {"r": 4, "alpha": 8, "dropout": 0.0,
                                                   "target_modules": ["q_proj", "v_proj"]},
                                          "epochs": 2, "batch_size": 4, "micro_batch_size": 4,
                                          "learning_rate": 5e-3, "warmup_ratio": 0.0}]}), encoding="utf-8")
    run_recipe(load_config(TrainRecipe, str(recipe), []), progress=False)
    eval_dir = root / "run" / "eval"
    run_eval(EvalConfig(tasks=["qtrans"], langs=["de-en", "zh-en"], model=tiny_model, data_dir=str(data),
                        out=str(eval_dir), max_new_tokens=16, batch_size=4, name_mode="paper"))
    assert main(["analyze", "language", "--samples", str(eval_dir), "--out", str(root / "run" / "analysis")]) == 0
    return root / "run"


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_report_renders_in_headless_chromium(real_run, tmp_path):
    report = build_report(real_run)
    url = report.resolve().as_uri()
    profile = tmp_path / "profile"

    shot = tmp_path / "report.png"
    done = _chromium(profile, f"--screenshot={shot}", "--window-size=1280,2000", url)
    assert done.returncode == 0, done.stderr[-2000:]
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size == (1280, 2000)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 50  # text, tables and a plot, not a blank page

    netlog = tmp_path / "net.json"
    done = _chromium(profile, "--enable-logging=stderr", "--v=0", f"--log-net-log={netlog}", "--dump-dom", url)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert dom.count("<table") >= 3 and "<script" not in dom
    assert re.search(r"<td>de-en</td>.*<td>zh-en</td>.*<td>avg</td>", dom, re.S)
    assert "Loss curve" in dom and "question-alignment" in dom and "Response language" in dom
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', dom)) >= 2
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    assert not console, console
    # requests made for the page carry its file:// origin in their network isolation key
    page_requests = re.findall(r'"[^"]*https?://[^"]*file://[^"]*"', netlog.read_text(encoding="utf-8"))
    assert not page_requests, page_requests
