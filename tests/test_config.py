from dataclasses import dataclass, field
from typing import Literal

import pytest
import yaml

from polyalign.config import apply_overrides, load_config, save_config, to_dict
from polyalign.errors import InputError


@dataclass
class Inner:
    size: int
    """A size."""
    rate: float = 0.5
    """A rate."""

    def validate(self) -> None:
        if self.size < 0:
            raise InputError("size must be ≥ 0")


@dataclass
class Outer:
    name: str
    """The name."""
    mode: Literal["a", "b"] = "a"
    """The mode."""
    items: list[Inner] = field(default_factory=list)
    """Items."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags."""
    limit: int | None = None
    """Optional limit."""


def write(tmp_path, text):
    path = tmp_path / "recipe.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_and_overrides_build_typed_objects(tmp_path):
    path = write(tmp_path, "name: x\nitems:\n  - {size: 1}\n  - {size: 2, rate: 3}\n")
    cfg = load_config(Outer, path, ["items.1.size=7", "mode=b", "tags.k=v", "limit=3", "items.0.rate=1"])
    assert cfg == Outer(name="x", mode="b", items=[Inner(1, 1.0), Inner(7, 3.0)], tags={"k": "v"}, limit=3)
    assert isinstance(cfg.items[1].rate, float)


def test_flow_lists_and_scientific_numbers_in_overrides(tmp_path):
    assert apply_overrides({}, ["langs=[de, fr]", "a.b=null"]) == {"langs": ["de", "fr"], "a": {"b": None}}
    cfg = load_config(Outer, write(tmp_path, "name: x\nitems: [{size: 1, rate: 2e-5}]\n"), ["items.0.size=2"])
    assert cfg.items[0].rate == 2e-5


@pytest.mark.parametrize("text, overrides, message", [
    ("name: x\nnmae: y\n", [], r"recipe.yaml: unknown field 'nmae' \(did you mean 'name'\?\)"),
    ("name: x\nitems: [{size: one}]\n", [], r"field items\[0\].size: expected an integer, got 'one'"),
    ("name: x\nmode: c\n", [], r"field mode: expected one of 'a' \| 'b', got 'c'"),
    ("items: []\n", [], r"missing required field 'name'"),
    ("name: x\nitems: [{size: -1}]\n", [], r"recipe.yaml: items\[0\]: size must be ≥ 0"),
    ("name: x\nitems: [{size: 1}]\n", ["items.3.size=1"], r"is not an index"),
    ("name: x\n", ["novalue"], r"expected key.sub=value"),
    ("name: [x\n", [], r"recipe.yaml:\d+: invalid YAML"),
    ("- a\n- b\n", [], r"expected a mapping"),
    ("name: x\nlimit: true\n", [], r"field limit: expected an integer, got True"),
])
def test_bad_configs_name_the_file_and_field(tmp_path, text, overrides, message):
    with pytest.raises(InputError, match=message):
        load_config(Outer, write(tmp_path, text), overrides)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_config(Outer, tmp_path / "nope.yaml")


def test_saved_config_round_trips(tmp_path):
    cfg = Outer(name="ü", items=[Inner(2)], tags={"a": "b"})
    path = save_config(cfg, tmp_path / "run")
    assert load_config(Outer, path) == cfg
    assert yaml.safe_load(path.read_text(encoding="utf-8")) == to_dict(cfg)
