"""`polyalign analyze alignment` end to end on tiny models: outputs, figures manifest, errors."""

from __future__ import annotations

import pytest

import json


from polyalign.models.tiny import build_tiny_llama


@pytest.mark.e2e
def test_alignment_cli_writes_tables_figures_and_manifest(tiny_model, tmp_path, cli, sample_pairs) -> None:
    other = build_tiny_llama(tmp_path / "other", seed=1)  # "after training": same architecture
    out = tmp_path / "out"
    done = cli("alignment", "--model", tiny_model, "--compare-model", str(other), "--parallel", str(sample_pairs),
               "--langs", "de,zh", "--limit", "8", "--layers", "1,2", "--plot-layer", "2", "--template", "alpaca",
               "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "Best layer per language" in done.stdout
    data = json.loads((out / "alignment.json").read_text(encoding="utf-8"))
    assert data["layers"] == [1, 2] and data["plot_layer"] == 2
    assert [m["label"] for m in data["models"]] == ["model", "other"]
    row = data["models"][0]["langs"]["zh"]["by_layer"][0]
    assert row["layer"] == 1 and row["n"] == 8
    assert {"cosine", "baseline", "gap", "retrieval_to_pivot", "retrieval_from_pivot", "raw_cosine"} <= set(row)
    manifest = json.loads((out / "figures.json").read_text(encoding="utf-8"))
    files = [f["file"] for f in manifest["figures"]]
    assert files == ["alignment_cosine.png", "alignment_retrieval.png", "alignment_pca_layer2.png"]
    for f in manifest["figures"]:
        assert f["title"] and f["caption"]
        assert (out / f["file"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    markdown = (out / "alignment.md").read_text(encoding="utf-8")
    assert "## model" in markdown and "## other" in markdown and "| 2 |" in markdown
    assert (out / "alignment_config.yaml").is_file()


@pytest.mark.e2e
def test_alignment_cli_bad_input_exits_2_with_one_line(tiny_model, tmp_path, cli, sample_pairs) -> None:
    done = cli("alignment", "--model", tiny_model, "--parallel", str(sample_pairs), "--layers", "1,x",
               "--out", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "--layers" in done.stderr
    done = cli("alignment", "--model", tiny_model, "--parallel", f"de={tmp_path / 'missing.de'}",
               "--out", str(tmp_path))
    assert done.returncode == 2 and "missing.de" in done.stderr
