import json
from collections import Counter

import pytest

from polyalign.data import shuffle
from polyalign.data.shuffle import dedup_shuffle


def write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return len(records)


def read(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


RECORDS = [{"id": f"s/{i}", "source": "s", "prompt": f"p{i % 7}", "completion": "c"} for i in range(20)]


@pytest.fixture(params=[100_000, 3], ids=["one-bucket", "many-buckets"])
def bucket_lines(request, monkeypatch):
    monkeypatch.setattr(shuffle, "BUCKET_LINES", request.param)
    return request.param


def test_dedup_keeps_first_occurrences_in_order(tmp_path, bucket_lines):
    n = write(tmp_path / "in.jsonl", RECORDS)
    stats = dedup_shuffle(tmp_path / "in.jsonl", tmp_path / "out.jsonl", n_lines=n, seed=None, dedup=True,
                          workdir=tmp_path / "w")
    assert [r["id"] for r in read(tmp_path / "out.jsonl")] == [f"s/{i}" for i in range(7)]
    assert (stats.kept, stats.duplicates, stats.duplicates_by_source) == (7, 13, Counter({"s": 13}))


def test_shuffle_is_a_seeded_permutation_of_the_unique_lines(tmp_path, bucket_lines):
    n = write(tmp_path / "in.jsonl", RECORDS)
    runs = []
    for seed in (1, 1, 2):
        dedup_shuffle(tmp_path / "in.jsonl", tmp_path / "out.jsonl", n_lines=n, seed=seed, dedup=True,
                      workdir=tmp_path / "w")
        runs.append([r["id"] for r in read(tmp_path / "out.jsonl")])
    assert sorted(runs[0]) == [f"s/{i}" for i in range(7)]
    assert runs[0] == runs[1] and runs[0] != runs[2]
    assert not list((tmp_path / "w").iterdir())  # bucket files cleaned up


def test_shuffle_without_dedup_keeps_every_line(tmp_path, bucket_lines):
    n = write(tmp_path / "in.jsonl", RECORDS)
    dedup_shuffle(tmp_path / "in.jsonl", tmp_path / "out.jsonl", n_lines=n, seed=3, dedup=False, workdir=tmp_path / "w")
    assert sorted(r["id"] for r in read(tmp_path / "out.jsonl")) == sorted(r["id"] for r in RECORDS)


def test_bucketed_shuffle_is_uniform(tmp_path, monkeypatch):
    """Every line lands in every position about equally often (chi-square, 5 lines, 3000 seeds)."""
    monkeypatch.setattr(shuffle, "BUCKET_LINES", 2)  # 3 buckets: exercises the weighted merge
    records = [{"id": str(i), "source": "s", "text": str(i)} for i in range(5)]
    n = write(tmp_path / "in.jsonl", records)
    counts = Counter()
    for seed in range(3000):
        dedup_shuffle(tmp_path / "in.jsonl", tmp_path / "out.jsonl", n_lines=n, seed=seed, dedup=False,
                      workdir=tmp_path / "w")
        for position, record in enumerate(read(tmp_path / "out.jsonl")):
            counts[(record["id"], position)] += 1
    expected = 3000 / 5
    chi2 = sum((counts[(str(i), p)] - expected) ** 2 / expected for i in range(5) for p in range(5))
    assert chi2 < 40  # 16 degrees of freedom: p ≈ 0.001 at 39.3
