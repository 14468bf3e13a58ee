"""Run many sandboxed programs in parallel, results in input order.

Each run is a child process, so threads suffice: a worker thread only waits on its child's pipes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from polyalign.exec.sandbox import ExecResult, isolation_mode, run_program

__all__ = ["run_programs"]


def run_programs(
    codes: Iterable[str],
    *,
    max_workers: int | None = None,
    progress: bool = False,
    **run_kwargs: Any,
) -> list[ExecResult]:
    """Run every program with ``run_program``, ``max_workers`` at a time.

    Args:
        codes: Python sources.
        max_workers: Concurrent programs; default ``os.cpu_count()``. Each program may use up to
            ``memory_mb``, so the pool can use ``max_workers * memory_mb`` in total.
        progress: Show a tqdm progress bar.
        **run_kwargs: Passed to ``run_program`` (timeout, memory_mb, ...).

    Returns:
        One ``ExecResult`` per program, in the order of ``codes``.
    """
    codes = list(codes)
    if not codes:
        return []
    if run_kwargs.get("isolation", "auto") == "auto":
        isolation_mode()  # probe once here, not in a race between the first workers
    workers = max(1, min(max_workers or os.cpu_count() or 1, len(codes)))
    results: list[ExecResult | None] = [None] * len(codes)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(codes), desc="exec", unit="prog")
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="polyalign-exec")
    try:
        futures = {pool.submit(run_program, code, **run_kwargs): i for i, code in enumerate(codes)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            if bar is not None:
                bar.update()
    finally:
        # On an interrupt, start no new program; running ones end within their own time limit.
        pool.shutdown(wait=True, cancel_futures=True)
        if bar is not None:
            bar.close()
    return results  # type: ignore[return-value]  # every slot was filled
