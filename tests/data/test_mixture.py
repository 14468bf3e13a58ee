import pytest

from polyalign.data.allocation import AllocationPlan, read_plan, write_plan
from polyalign.data.mixture import apportion, resolve_counts
from polyalign.data.recipe import SourceConfig
from polyalign.errors import InputError


def src(name, lang="de", builder="translation", **kw):
    return SourceConfig(name=name, builder=builder, lang=lang, path="x.jsonl", **kw)


def test_apportion_is_exact_and_proportional():
    assert apportion(10, [9, 1]) == [9, 1]
    assert apportion(10, [1, 1, 1]) == [4, 3, 3]
    assert apportion(7, [0.5, 0.25, 0.25]) == [3, 2, 2]  # 3.5, 1.75, 1.75: largest remainders win
    for total in range(50):
        assert sum(apportion(total, [3, 2, 2, 0.5])) == total


def test_counts_weights_and_all():
    sources = [src("a", count=5), src("b", weight=3), src("c", weight=1), src("d")]
    available = {"a": 9, "b": 100, "c": 100, "d": 4}
    assert resolve_counts(sources, available, total=40) == {"a": 5, "b": 30, "c": 10, "d": None}
    # Without a total: the largest mixture the weights allow (c limits: 10 / (1/4) = 40).
    assert resolve_counts(sources, {**available, "c": 10}) == {"a": 5, "b": 30, "c": 10, "d": None}


def test_count_above_available_is_an_error():
    with pytest.raises(InputError, match=r"source 'a': 10 examples asked for, but only 9 are available"):
        resolve_counts([src("a", count=10)], {"a": 9})
    with pytest.raises(InputError, match="no source has a `weight`"):
        resolve_counts([src("a")], {"a": 9}, total=3)


def test_allocation_plan_sizes_the_plans_builder_per_language(tmp_path):
    plan = read_plan(write_plan(AllocationPlan({"de": 6, "zh": 4}, budget=10, extra={"metric": "bleu"}),
                                tmp_path / "plan.json"))
    assert plan.extra == {"unit": "examples", "metric": "bleu"}
    sources = [src("t-de", "de"), src("t-zh", "zh"), src("alpaca", "en", builder="instructions")]
    assert resolve_counts(sources, {"t-de": 50, "t-zh": 50, "alpaca": 7}, plan=plan) == {
        "t-de": 6, "t-zh": 4, "alpaca": None}
    with pytest.raises(InputError, match="no entry for 'fr'"):
        resolve_counts(sources + [src("t-fr", "fr")], {"t-de": 50, "t-zh": 50, "alpaca": 7, "t-fr": 9}, plan=plan)
    with pytest.raises(InputError, match=r"allocates to zh, but no 'translation' source"):
        resolve_counts(sources[:1], {"t-de": 50}, plan=plan)


def test_bad_plan_files(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text('{"format": "polyalign-allocation/1", "budget": 5, "allocation": {"de": 3, "zh": 1}}')
    with pytest.raises(InputError, match="sum to 4, not to the budget 5"):
        read_plan(path)
    path.write_text('{"budget": 5}')
    with pytest.raises(InputError, match="format"):
        read_plan(path)
    path.write_text('{"format": "polyalign-allocation/1", "budget": 1, "allocation": {"xx": 1}}')
    with pytest.raises(InputError, match="unknown language code 'xx'"):
        read_plan(path)
