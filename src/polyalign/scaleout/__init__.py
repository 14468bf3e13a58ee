"""Planning runs beyond one machine: model architecture numbers, GPU facts, a memory and time estimator
for training recipes (`polyalign plan`, and the fit check `polyalign train` runs first), and the
machine check behind `polyalign doctor`. See docs/gpu.md for the runbooks built from these numbers.

Layering: imports `train.config` (recipes) and `models` (zoo paths); nothing here imports torch at
module level, so `plan` and `doctor` answer in well under a second.
"""

from polyalign.scaleout.architecture import Architecture, architecture_for, public_architectures
from polyalign.scaleout.hardware import GPU_TABLE, GpuSpec, gpu_spec
from polyalign.scaleout.memory import MemoryEstimate, Strategy, estimate_memory
from polyalign.scaleout.plan import StagePlan, TrainPlan, check_fits, plan_recipe

__all__ = ["Architecture", "architecture_for", "public_architectures", "GPU_TABLE", "GpuSpec", "gpu_spec",
           "MemoryEstimate", "Strategy", "estimate_memory", "StagePlan", "TrainPlan", "check_fits", "plan_recipe"]
