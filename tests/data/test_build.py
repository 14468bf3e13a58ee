import json

import pytest

from polyalign.config import from_dict, load_config
from polyalign.data.build import build_data
from polyalign.data.recipe import DataBuildConfig
from polyalign.errors import InputError


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def corpus(tmp_path):
    """Parallel de/fr questions with English, and an English GSM8K-style file with a duplicate."""
    root = tmp_path / "data"
    for lang, words in {"de": ["eins", "zwei", "drei", "vier"], "fr": ["un", "deux", "trois", "quatre"]}.items():
        (root / f"{lang}-en").mkdir(parents=True)
        (root / f"{lang}-en" / f"train.{lang}").write_text("\n".join(words) + "\n", encoding="utf-8")
        (root / f"{lang}-en" / "train.en").write_text("one\ntwo\nthree\nfour\n", encoding="utf-8")
    rows = [{"question": f"q{i}", "answer": f"a <<1+1=2>>2\n#### {i}"} for i in range(6)] + [
        {"question": "q0", "answer": "a <<1+1=2>>2\n#### 0"}]
    (root / "gsm.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return root


def recipe(tmp_path, corpus, **extra):
    data = {"name": "t", "out": str(tmp_path / "out"), "data_root": str(corpus), "langs": ["de", "fr"],
            "sources": [{"name": "qa-{lang}", "builder": "question_alignment",
                         "parallel": {"{lang}": "{data_root}/{lang}-en/train.{lang}",
                                      "en": "{data_root}/{lang}-en/train.en"}}]}
    data.update(extra)
    return from_dict(DataBuildConfig, data)


def test_stage_one_build_writes_golden_examples_card_and_config(tmp_path, corpus):
    out = build_data(recipe(tmp_path, corpus, shuffle=False, language_names="paper"), progress=False)
    records = lines(out / "train.jsonl")
    assert len(records) == 8
    assert records[0] == {
        "id": "qa-de/0", "lang": "de", "source": "qa-de",
        "prompt": "Below is an instruction that describes a task. Write a response that appropriately completes the "
                  "request.\n\n### Instruction:\nTranslate the following sentences from German to English. eins"
                  "\n\n### Response:",
        "completion": "one"}
    card = json.loads((out / "data_card.json").read_text(encoding="utf-8"))
    assert card["splits"]["train"]["languages"] == {"de": 4, "fr": 4}
    assert [s["selected"] for s in card["sources"]] == [4, 4]
    assert card["files"]["train.jsonl"]["examples"] == 8 and card["length_unit"] == "characters"
    assert (out / "data_card.md").read_text(encoding="utf-8").startswith("# Data card: t")
    saved = load_config(DataBuildConfig, out / "config.yaml")
    assert saved.sources[0].name == "qa-{lang}" and saved.langs == ["de", "fr"]
    assert sorted(p.name for p in out.iterdir()) == ["config.yaml", "data_card.json", "data_card.md", "train.jsonl"]


def test_shuffle_dev_split_and_dedup(tmp_path, corpus):
    cfg = recipe(tmp_path, corpus, dev_size=3, sources=[
        {"name": "gsm", "builder": "response_alignment", "lang": "en", "path": "{data_root}/gsm.jsonl",
         "options": {"style": "gsm8k"}}])
    out = build_data(cfg, progress=False)
    train, dev = lines(out / "train.jsonl"), lines(out / "dev.jsonl")
    assert (len(train), len(dev)) == (3, 3)
    ids = [r["id"] for r in dev + train]
    assert sorted(ids) == [f"gsm/{i}" for i in range(6)]  # gsm/6 duplicates gsm/0 and goes
    assert ids != sorted(ids)  # shuffled
    card = json.loads((out / "data_card.json").read_text(encoding="utf-8"))
    assert card["totals"]["duplicates_removed"] == 1 and card["sources"][0]["duplicates_removed"] == 1
    assert train[0]["completion"].endswith("The answer is: " + train[0]["id"].split("/")[1])


def test_counts_are_nested_seeded_samples(tmp_path, corpus):
    def ids(count):
        cfg = recipe(tmp_path, corpus, out=str(tmp_path / f"out{count}"), shuffle=False,
                     sources=[{"name": "gsm", "builder": "response_alignment", "lang": "en", "count": count,
                               "path": "{data_root}/gsm.jsonl", "options": {"style": "gsm8k"}}])
        return [r["id"] for r in lines(build_data(cfg, progress=False) / "train.jsonl")]
    small, large = ids(2), ids(4)
    assert len(small) == 2 and len(large) == 4 and set(small) < set(large)


def test_allocation_plan_sizes_translation_sources(tmp_path, corpus):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"format": "polyalign-allocation/1", "builder": "question_alignment", "budget": 5,
                                "allocation": {"de": 3, "fr": 2}}))
    out = build_data(recipe(tmp_path, corpus, allocation={"plan": str(plan)}), progress=False)
    card = json.loads((out / "data_card.json").read_text(encoding="utf-8"))
    assert card["splits"]["train"]["languages"] == {"de": 3, "fr": 2}


def test_failed_build_leaves_nothing_and_finished_build_is_not_overwritten(tmp_path, corpus):
    (corpus / "fr-en" / "train.en").write_text("one\n", encoding="utf-8")
    with pytest.raises(InputError, match="parallel files differ in length"):
        build_data(recipe(tmp_path, corpus), progress=False)
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["data"]  # no staging folder left either
    cfg = recipe(tmp_path, corpus, langs=["de"])
    build_data(cfg, progress=False)
    with pytest.raises(InputError, match="holds a finished build; pass --overwrite"):
        build_data(cfg, progress=False)
    build_data(cfg, overwrite=True, progress=False)


@pytest.mark.parametrize("extra, message", [
    ({"langs": ["de", "xx"]}, "unknown language code 'xx'"),
    ({"sources": [{"name": "a", "builder": "translate", "lang": "de", "path": "x.jsonl"}]},
     "unknown builder 'translate' .did you mean 'translation'"),
    ({"sources": [{"name": "a", "builder": "translation", "lang": "de", "path": "x.jsonl",
                   "options": {"direction": "sideways"}}]}, "direction: expected one of"),
    ({"sources": [{"name": "a", "builder": "instructions", "path": "x.jsonl"}]}, "set `lang`"),
    ({"dev_size": 2, "shuffle": False}, "set shuffle: true"),
])
def test_recipe_errors(tmp_path, corpus, extra, message):
    with pytest.raises(InputError, match=message):
        recipe(tmp_path, corpus, **extra)


def test_source_without_any_example_is_an_error(tmp_path, corpus):
    (corpus / "empty.jsonl").write_text("\n", encoding="utf-8")
    cfg = recipe(tmp_path, corpus, sources=[{"name": "e", "builder": "instructions", "lang": "de",
                                             "path": "{data_root}/empty.jsonl"}])
    with pytest.raises(InputError, match="no records"):
        build_data(cfg, progress=False)


def test_output_folder_can_name_the_languages(tmp_path, corpus):
    out = build_data(recipe(tmp_path, corpus, out=str(tmp_path / "x-{langs}")), progress=False)
    assert out == tmp_path / "x-de-fr" and (out / "train.jsonl").exists()
    with pytest.raises(InputError, match="no `langs`"):
        recipe(tmp_path, corpus, out=str(tmp_path / "x-{langs}"), langs=None,
               sources=[{"name": "g", "builder": "instructions", "lang": "en", "path": "x.jsonl"}])
