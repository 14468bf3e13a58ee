"""End to end: the real `polyalign data` command, its outputs and its exit codes."""

import json

import pytest
from support.cli import run_cli


def recipe(tmp_path, sources, name="bad"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"name: {name}\nout: {tmp_path / 'out'}\nsources:\n{sources}\n", encoding="utf-8")
    return str(path)


@pytest.mark.e2e
def test_shipped_sample_builds_and_inspects(tmp_path):
    done = run_cli("data", "build", "qalign-stage1-sample", f"out={tmp_path / 'qa'}", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "train.jsonl: 66 examples" in done.stdout and "dev.jsonl: 6 examples" in done.stdout
    first = json.loads((tmp_path / "qa" / "train.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first["prompt"].startswith("Below is an instruction") and first["lang"] in {"de", "es", "fr", "ja", "ru", "zh"}
    shown = run_cli("data", "inspect", str(tmp_path / "qa" / "train.jsonl"), "--show", "1")
    assert shown.returncode == 0, shown.stderr
    assert "66 instruction examples, valid" in shown.stdout
    again = run_cli("data", "build", "qalign-stage1-sample", f"out={tmp_path / 'qa'}", "--no-progress")
    assert again.returncode == 2 and "pass --overwrite" in again.stderr


BAD_INPUTS = {
    "malformed-jsonl": ("bad.jsonl", b'{"instruction": "a", "output": "b"}\n{"instruction": \n',
                        "  - {name: s, builder: instructions, lang: de, path: FILE}", r"bad.jsonl:2: malformed JSON"),
    "missing-field": ("m.jsonl", b'{"question": "a", "output": "b"}\n',
                      "  - {name: s, builder: instructions, lang: de, path: FILE}", r"m.jsonl:1: missing field 'instruction'"),
    "unknown-language": ("u.jsonl", b'{"instruction": "a", "output": "b"}\n',
                         "  - {name: s, builder: instructions, lang: klingon, path: FILE}",
                         r"sources\[0\]: unknown language code 'klingon'"),
    "empty-file": ("e.jsonl", b"", "  - {name: s, builder: instructions, lang: de, path: FILE}",
                   r"e.jsonl: source 's': no records"),
    "non-utf8": ("n.jsonl", b'{"instruction": "\xe4", "output": "b"}\n',
                 "  - {name: s, builder: instructions, lang: de, path: FILE}", r"n.jsonl:1: not valid UTF-8"),
    "unknown-recipe-key": ("k.jsonl", b'{"instruction": "a", "output": "b"}\n',
                           "  - {name: s, builder: instructions, lang: de, path: FILE, cuont: 3}",
                           r"unknown field 'sources\[0\].cuont' \(did you mean 'count'\?\)"),
}


@pytest.mark.e2e
@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exits_2_with_one_line_and_no_output(tmp_path, case):
    name, content, source, message = BAD_INPUTS[case]
    (tmp_path / name).write_bytes(content)
    done = run_cli("data", "build", recipe(tmp_path, source.replace("FILE", str(tmp_path / name))), "--no-progress")
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if not line.startswith("INFO")]
    assert len(errors) == 1 and errors[0].startswith("polyalign: error: "), done.stderr
    assert __import__("re").search(message, errors[0]), errors[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.e2e
def test_parallel_files_of_different_lengths(tmp_path):
    (tmp_path / "t.de").write_text("a\nb\n", encoding="utf-8")
    (tmp_path / "t.en").write_text("a\n", encoding="utf-8")
    source = f"  - {{name: s, builder: question_alignment, lang: de, parallel: {{de: {tmp_path}/t.de, en: {tmp_path}/t.en}}}}"
    done = run_cli("data", "build", recipe(tmp_path, source), "--no-progress")
    assert done.returncode == 2 and "t.en has 1 line, " in done.stderr and "line 2 has no partner" in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.e2e
def test_offline_hub_dataset_and_unknown_recipe(tmp_path):
    source = "  - {name: s, builder: instructions, lang: en, path: 'hf:polyalign-test/no-such-dataset'}"
    done = run_cli("data", "build", recipe(tmp_path, source), "--no-progress",
                   env={"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"})
    assert done.returncode == 2 and "cannot load dataset 'polyalign-test/no-such-dataset'" in done.stderr
    missing = run_cli("data", "build", "no-such-recipe")
    assert missing.returncode == 2 and "shipped: " in missing.stderr and "qalign-stage1" in missing.stderr


@pytest.mark.e2e
def test_inspect_rejects_files_that_break_the_format(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"id": "a", "lang": "de", "source": "s", "prompt": "p"}\n', encoding="utf-8")
    done = run_cli("data", "inspect", str(path))
    assert done.returncode == 2 and "x.jsonl:1: missing or non-string field(s) completion" in done.stderr


@pytest.mark.e2e
def test_help_teaches():
    done = run_cli("data", "build", "--help")
    assert done.returncode == 0 and "question_alignment (QAlign stage I)" in done.stdout and "examples:" in done.stdout
