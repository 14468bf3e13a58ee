"""``polyalign train --nproc N``: start N training processes on this machine with torch's elastic launcher.

The parent process only launches and waits; each child runs the ordinary ``polyalign train`` command
(the same recipe, flags and overrides) with torchrun's environment (RANK, WORLD_SIZE, MASTER_ADDR, …),
exactly as ``torchrun --nproc-per-node N -m polyalign.cli.main train …`` would start it. Process 0
writes to this terminal; the others write to log files, named when they fail, so a bad input is
reported once rather than N times.

Exit code: 2 when a process stopped on bad input (it printed the reason), 1 for any other failure
(a crash, a killed process: the survivors are stopped), 0 when all finished.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import uuid

__all__ = ["launch", "in_launched_process"]

log = logging.getLogger(__name__)


def in_launched_process() -> bool:
    """Whether this process was started by a launcher (torchrun, accelerate launch, `launch`)."""
    return "LOCAL_RANK" in os.environ and "WORLD_SIZE" in os.environ


def launch(argv: list[str], nproc: int) -> int:
    """Run ``python -m polyalign.cli.main ARGV`` in ``nproc`` processes on this machine; return the exit code.

    Args:
        argv: the command line of each process, from ``train`` on (without ``--nproc``).
        nproc: number of processes (≥ 2).
    """
    from torch.distributed.elastic.multiprocessing import DefaultLogsSpecs, Std
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    if "OMP_NUM_THREADS" not in os.environ:  # as torchrun does: N processes must not each take every core
        os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // nproc))
    log_dir = tempfile.mkdtemp(prefix="polyalign-train-")
    config = LaunchConfig(
        min_nodes=1, max_nodes=1, nproc_per_node=nproc, run_id=f"polyalign-{uuid.uuid4().hex[:8]}",
        rdzv_backend="c10d", rdzv_endpoint="127.0.0.1:0", max_restarts=0, monitor_interval=0.1,
        logs_specs=DefaultLogsSpecs(log_dir=log_dir, redirects={rank: Std.ALL for rank in range(1, nproc)}))
    try:
        elastic_launch(config, sys.executable)("-m", "polyalign.cli.main", *argv)
    except ChildFailedError as err:
        codes = {rank: failure.exitcode for rank, failure in err.failures.items()}
        others = sorted(rank for rank in codes if rank != 0)
        if others and codes.get(0) != 2:  # on bad input process 0 has said why
            print(f"polyalign: process(es) {', '.join(map(str, others))} failed; their output is under {log_dir}",
                  file=sys.stderr)
        return 2 if 2 in codes.values() else 1
    return 0
