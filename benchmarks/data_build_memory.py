"""Peak memory of `polyalign data build` as the parallel corpus grows (flat memory).

Writes synthetic line-aligned parallel corpora of N lines (de/en, ~60 characters a side), builds a
translation mixture from each in a fresh `polyalign` process (dedup + shuffle + dev split, the most
memory-hungry path), and reports the child's peak RSS and wall time. Flat memory means the peak
does not grow with N (bounded by the shuffle's bucket size, ~100K lines).

    python benchmarks/data_build_memory.py                  # 10K, 100K, 1M lines
    python benchmarks/data_build_memory.py --sizes 10000 1000000 --repeats 3
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS_DE = "der die das und ist nicht ein eine zu mit auf für von sie er wir Haus Zeit Jahr Welt Stadt".split()
WORDS_EN = "the and is not a an to with on for of she he we house time year world city river".split()


def write_corpus(folder: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    with (folder / "train.de").open("w", encoding="utf-8") as de, (folder / "train.en").open("w", encoding="utf-8") as en:
        for i in range(n):
            de.write(" ".join(rng.choices(WORDS_DE, k=9)) + f" {i}.\n")
            en.write(" ".join(rng.choices(WORDS_EN, k=9)) + f" {i}.\n")


def build_once(folder: Path, out: Path) -> tuple[float, float]:
    recipe = folder / "recipe.yaml"
    recipe.write_text(
        f"name: bench\nout: {out}\ndev_size: 1000\nsources:\n"
        f"  - {{name: t, builder: translation, lang: de, parallel: {{en: {folder}/train.en, de: {folder}/train.de}}}}\n",
        encoding="utf-8")
    code = ("import resource, sys; from polyalign.cli.main import main; rc = main(sys.argv[1:]); "
            "print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(rc)")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, "data", "build", str(recipe), "--overwrite", "--no-progress"],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    peak_kb = next(int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("PEAK_KB"))
    return peak_kb / 1024, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    rows = []
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            write_corpus(folder, n)
            runs = [build_once(folder, folder / "out") for _ in range(args.repeats)]
            out_lines = sum(1 for _ in (folder / "out" / "train.jsonl").open(encoding="utf-8"))
        rows.append((n, statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs), out_lines))
    base = rows[0][1]
    print(f"{'lines':>10} {'peak RSS MiB':>13} {'vs smallest':>12} {'seconds':>9} {'lines/s':>9} {'train ex.':>10}")
    for n, mib, seconds, out_lines in rows:
        print(f"{n:>10,} {mib:>13.1f} {mib / base:>11.2f}x {seconds:>9.1f} {n / seconds:>9,.0f} {out_lines:>10,}")
    print(f"(medians of {args.repeats} run(s); peak RSS of the whole `polyalign data build` process; "
          f"python {sys.version.split()[0]}, max RSS from getrusage)")


if __name__ == "__main__":
    main()
