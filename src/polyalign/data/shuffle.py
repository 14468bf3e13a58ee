"""Deduplicate and shuffle a JSON Lines file of any size in bounded memory.

Lines are spread over bucket files by a hash of their content key, so duplicates always meet in the
same bucket; one bucket at a time is read, deduplicated (first occurrence in file order wins) and
shuffled; the shuffled buckets are then merged by drawing each next line from a bucket with
probability proportional to the lines it has left. A uniform shuffle of each part followed by such a
merge is a uniform random permutation of the whole, and it depends only on the seed and the content,
so the first N lines of the result form nested samples as N grows (what scaling sweeps need).
Memory is bounded by the bucket size, not the file size.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import random
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

__all__ = ["ShuffleStats", "dedup_shuffle", "content_key"]

BUCKET_LINES = 100_000


def content_key(record: dict[str, Any]) -> str:
    """What makes two examples the same: their text, or their prompt and completion."""
    if "text" in record:
        return record["text"]
    return f"{record.get('prompt', '')}\x00{record.get('completion', '')}"


@dataclass
class ShuffleStats:
    kept: int = 0
    duplicates: int = 0
    duplicates_by_source: Counter = field(default_factory=Counter)


def _digest(line: str, key: Callable[[dict[str, Any]], str]) -> bytes:
    return hashlib.blake2b(key(json.loads(line)).encode("utf-8"), digest_size=16).digest()


def dedup_shuffle(src: Path, dst: Path, *, n_lines: int, seed: int | None, dedup: bool, workdir: Path,
                  key: Callable[[dict[str, Any]], str] = content_key) -> ShuffleStats:
    """Copy ``src`` to ``dst`` without duplicate lines (if ``dedup``) in a seeded random order.

    Args:
        src: JSON Lines input, one example per line.
        dst: output file.
        n_lines: number of lines in ``src`` (sizes the buckets).
        seed: shuffle seed; None keeps the input order (then only deduplication happens).
        dedup: drop lines whose content key was seen before.
        workdir: folder for the temporary bucket files (removed afterwards).
        key: the content key of a parsed line.
    """
    stats = ShuffleStats()
    if seed is None and not dedup:
        shutil.copyfile(src, dst)
        stats.kept = n_lines
        return stats
    n_buckets = max(1, math.ceil(n_lines / BUCKET_LINES))
    workdir.mkdir(parents=True, exist_ok=True)
    buckets = [workdir / f"bucket-{b:05d}.jsonl" for b in range(n_buckets)]
    # Pass 1: spread lines over buckets by content hash, prefixed with their line number.
    with contextlib.ExitStack() as stack:
        outs = [stack.enter_context(path.open("w", encoding="utf-8")) for path in buckets]
        with src.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle):
                digest = _digest(line, key)
                outs[int.from_bytes(digest[:8], "little") % n_buckets].write(f"{number}\t{digest.hex()}\t{line}")
    # Pass 2: per bucket, drop duplicates (keeping the earliest line) and shuffle.
    sizes: list[int] = []
    dropped: set[int] = set()
    for b, path in enumerate(buckets):
        seen: set[str] = set()
        kept: list[str] = []
        with path.open(encoding="utf-8") as handle:
            for entry in handle:
                number, digest, line = entry.split("\t", 2)
                if dedup and digest in seen:
                    if seed is None:
                        dropped.add(int(number))
                    stats.duplicates_by_source[json.loads(line).get("source", "")] += 1
                    continue
                seen.add(digest)
                kept.append(line)
        if seed is not None:
            random.Random(f"{seed}/{b}").shuffle(kept)
            path.write_text("".join(kept), encoding="utf-8")
        else:
            path.unlink()
        sizes.append(len(kept))
    stats.duplicates = sum(stats.duplicates_by_source.values())
    stats.kept = sum(sizes)
    # Pass 3: merge (shuffle) or stream the input skipping duplicates (keep order).
    with dst.open("w", encoding="utf-8") as out:
        if seed is None:
            with src.open(encoding="utf-8") as handle:
                out.writelines(line for number, line in enumerate(handle) if number not in dropped)
        else:
            _merge(buckets, sizes, random.Random(seed), out)
    for path in buckets:
        path.unlink(missing_ok=True)
    return stats


def _merge(buckets: list[Path], sizes: list[int], rng: random.Random, out: Any) -> None:
    remaining = list(sizes)
    total = sum(remaining)
    with contextlib.ExitStack() as stack:
        handles = [stack.enter_context(path.open(encoding="utf-8")) for path in buckets]
        while total:
            pick = rng.randrange(total)
            b = 0
            while pick >= remaining[b]:
                pick -= remaining[b]
                b += 1
            out.write(handles[b].readline())
            remaining[b] -= 1
            total -= 1
