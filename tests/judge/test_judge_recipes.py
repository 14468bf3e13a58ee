"""The low-resource loop end to end on a CPU: Bactrian-X-style data → the shipped recipes → responses → judge.

Bactrian-X itself is not downloaded: a local stand-in with its schema (instruction, input, id, output,
one file per language) goes through the shipped data recipe, the CPU training recipe runs two steps on
the tiny model, and the trained model's responses to the shipped open-ended sample are judged.
"""

from __future__ import annotations

import json
import re

from support.judges import ScriptedJudge

from polyalign.config import load_config
from polyalign.data.build import build_data
from polyalign.data.recipe import DataBuildConfig, expand_sources
from polyalign.judge import JudgeConfig
from polyalign.judge import runner as judge_runner
from polyalign.langs import LOW_RESOURCE_LANGS
from polyalign.recipes import find_recipe
from polyalign.train.config import TrainRecipe
from polyalign.train.recipe import run_recipe

STAND_IN = {
    "sw": [("Taja rangi tatu za msingi.", "", "Nyekundu, bluu na njano."),
           ("Tafsiri kwa Kiingereza.", "Habari za asubuhi", "Good morning."),
           ("Eleza maana ya neno 'amani'.", "", "Amani ni hali ya utulivu bila vita wala ugomvi.")],
    "hi": [("तीन प्राथमिक रंग बताइए।", "", "लाल, नीला और पीला।"),
           ("अंग्रेज़ी में अनुवाद कीजिए।", "सुप्रभात", "Good morning."),
           ("'शांति' शब्द का अर्थ समझाइए।", "", "शांति का अर्थ है बिना युद्ध या झगड़े के सुकून की स्थिति।")],
}


def test_the_bactrian_x_recipes_cover_the_13_languages():
    for name, count in (("bactrian-x-1k", 1000), ("bactrian-x-full", None)):
        sources = expand_sources(load_config(DataBuildConfig, find_recipe(name, "data")))
        assert [s.lang for s in sources] == list(LOW_RESOURCE_LANGS)
        assert all(s.path == "hf:MBZUAI/Bactrian-X" and s.subset == s.lang and s.count == count for s in sources)


def test_low_resource_loop_builds_trains_and_is_judged(tmp_path, tiny_model, monkeypatch):
    for lang, rows in STAND_IN.items():
        (tmp_path / f"{lang}.json").write_text(json.dumps(
            [{"instruction": i, "input": x, "id": f"{lang}-{k}", "output": o} for k, (i, x, o) in enumerate(rows)],
            ensure_ascii=False), encoding="utf-8")
    data = build_data(load_config(DataBuildConfig, find_recipe("bactrian-x-1k", "data"), [
        f"sources.0.path={tmp_path}/{{lang}}.json", "sources.0.subset=null", "sources.0.count=2", "langs=[sw,hi]",
        f"out={tmp_path}/data"]), progress=False)
    examples = [json.loads(line) for line in (data / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(e["lang"] for e in examples) == ["hi", "hi", "sw", "sw"]
    assert all(e["prompt"].startswith("Below is an instruction") and e["completion"] for e in examples)

    recipe = load_config(TrainRecipe, find_recipe("bactrian-x-smollm2-lora", "train"), [
        f"model={tiny_model}", f"out={tmp_path}/train", f"stages.0.data={data}/train.jsonl", "stages.0.max_steps=2",
        "stages.0.batch_size=2", "stages.0.micro_batch_size=2"])
    trained = run_recipe(recipe, progress=False) / "sft" / "model"
    assert (trained / "model.safetensors").is_file()

    def by_dimension(conversation):
        return {"Accuracy": "Score: 1", "Fluency": "Score: 0"}.get(
            re.search(r"Dimension: ([^.]+)\.", conversation[0]["content"]).group(1), "Score: 3")

    monkeypatch.setattr(judge_runner, "make_judge", lambda cfg: ScriptedJudge(by_dimension))
    document = judge_runner.run_judge(JudgeConfig(
        judge="scripted", out=str(tmp_path / "judge"), model=str(trained), instructions="builtin:samples/open-ended",
        langs=["sw"], limit=2, max_new_tokens=4))
    assert document["results"] == {"open-ended": {"sw": {
        "accuracy_0-3": 1.0, "fluency_0-3": 0.0, "informativeness_0-3": 3.0, "logical_coherence_0-3": 3.0,
        "harmlessness_0-3": 3.0, "avg_0-3": 2.0, "avg_no_harmlessness_0-3": 1.75, "n": 2, "unparseable": 0}}}
    assert set(document["by_category"]["open-ended"]) == {"knowledge", "writing"}
    assert document["provenance"]["generation"]["model_path"] == str(trained)
    assert document["provenance"]["generation"]["prompt"] == "chat"
