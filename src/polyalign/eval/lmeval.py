"""The bridge to lm-evaluation-harness: our task pack loaded through lm-eval's own Python API.

lm-eval builds the tasks (``TaskManager`` over ``polyalign/eval/tasks`` only), their documents (our
``custom_dataset`` hook), the prompt of each document (``fewshot_context``, which also applies a chat
template), the requests (``construct_requests``: generation arguments or one log-likelihood request
per option) and per-example scores (``process_results``, our scorers). The runner only adds the
backend calls, resume, samples and provenance around them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from polyalign.errors import InputError
from polyalign.eval.benchmarks import tasks_dirs

if TYPE_CHECKING:
    from lm_eval.api.task import ConfigurableTask

    from polyalign.infer.backends.base import ChatTemplate

__all__ = ["load_tasks", "build_context", "build_requests", "task_version"]


def load_tasks(names: Sequence[str], metadata: dict[str, Any]) -> dict[str, ConfigurableTask]:
    """Build lm-eval task objects by name (``pa_mgsm_de``); reads their data files now.

    Args:
        names: lm-eval task names from `polyalign.eval.taskgen.task_name`.
        metadata: passed to every task's ``custom_dataset`` (data_dir, prompt, num_fewshot, name_mode).
    """
    # lm-eval logs a warning per custom_dataset task; our own messages say what matters
    for name in ("lm_eval", "lm-eval"):
        logging.getLogger(name).setLevel(logging.ERROR)
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=[str(d) for d in tasks_dirs()], include_defaults=False, metadata=metadata)
    unknown = [n for n in names if n not in manager.all_subtasks]
    if unknown:
        raise InputError(f"the task pack has no lm-eval task {', '.join(unknown)} "
                         "(run python -m polyalign.eval.taskgen?)")
    return manager.load(list(names))["tasks"]


def task_version(task: ConfigurableTask) -> Any:
    return (task.config.metadata or {}).get("version")


def build_context(task: ConfigurableTask, doc: dict[str, Any], chat_template: ChatTemplate | None) -> str:
    """The full prompt of a document (zero lm-eval shots: our few-shot exemplars live in the doc)."""
    return task.fewshot_context(doc, 0, apply_chat_template=chat_template is not None, chat_template=chat_template)


def build_requests(task: ConfigurableTask, doc: dict[str, Any], context: str, chat: bool) -> list[tuple[Any, ...]]:
    """lm-eval's request arguments: ``[(context, gen_kwargs)]`` or ``[(context, continuation), ...]``."""
    made = task.construct_requests(doc, context, metadata=(task.task_name, doc["index"], 1),
                                   apply_chat_template=chat)
    return [inst.args for inst in (made if isinstance(made, list) else [made])]
