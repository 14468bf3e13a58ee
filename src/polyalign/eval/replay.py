"""The ``replay`` backend: score outputs someone else produced (``--predictions FILE``), no model.

The file is JSON Lines with ``task``, ``lang``, ``id`` and ``output`` (a string) per line; ids are
``<task>/<lang>/<index>`` as in ``samples/`` (docs/architecture.md). Lines for tasks or languages not being
evaluated are ignored (and counted); everything else must be right: a missing field, a non-string
output, an id that disagrees with its task/lang fields, a duplicate, or an index beyond the data is
an `InputError` naming the line. Examples without a prediction are skipped and reported, never scored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from polyalign.errors import InputError
from polyalign.infer.backends.base import ChatTemplate, GenRequest
from polyalign.infer.backends.options import BackendOptions
from polyalign.io import file_sha256, iter_jsonl

__all__ = ["ReplayBackend"]

_ID = re.compile(r"^(?P<task>[^/]+)/(?P<lang>[^/]+)/(?P<index>\d+)$")


class ReplayBackend:
    """Looks outputs up by example id."""

    name = "replay"

    def __init__(self, options: BackendOptions) -> None:
        if not options.predictions:
            raise InputError("backend replay needs --predictions FILE (JSONL with task, lang, id, output)")
        self.options = options
        self.path = options.predictions
        self.outputs: dict[str, str] = {}
        self.where: dict[str, str] = {}
        for number, record in iter_jsonl(self.path):
            where = f"{self.path}:{number}"
            for field in ("task", "lang", "id", "output"):
                if field not in record:
                    raise InputError(f"missing field {field!r} (a prediction needs task, lang, id, output)", where=where)
            if not isinstance(record["output"], str):
                raise InputError(f"field 'output' must be a string, got {type(record['output']).__name__}", where=where)
            m = _ID.match(str(record["id"]))
            if not m or (m["task"], m["lang"]) != (str(record["task"]), str(record["lang"])):
                raise InputError(f"id {record['id']!r} is not {record['task']}/{record['lang']}/<index>", where=where)
            if record["id"] in self.outputs:
                raise InputError(f"duplicate id {record['id']!r} (first at {self.where[record['id']]})", where=where)
            self.outputs[record["id"]] = record["output"]
            self.where[record["id"]] = where

    def check_ids(self, sizes: dict[tuple[str, str], int], known_tasks: dict[str, Sequence[str]]) -> int:
        """Reject ids that name no example; return how many lines are for tasks/languages not evaluated.

        Args:
            sizes: (task, lang) -> number of examples in the data, for the pairs being evaluated.
            known_tasks: task -> its language keys (every task polyalign knows).
        """
        ignored = 0
        for example_id, where in self.where.items():
            task, lang, index = example_id.split("/")
            if task not in known_tasks:
                raise InputError(f"unknown task {task!r} in id {example_id!r}; known: {', '.join(known_tasks)}",
                                 where=where)
            if lang not in known_tasks[task]:
                raise InputError(f"task {task} has no language {lang!r} (id {example_id!r})", where=where)
            if (task, lang) not in sizes:
                ignored += 1
            elif int(index) >= sizes[(task, lang)]:
                raise InputError(f"unknown id {example_id!r}: {task} {lang} has {sizes[(task, lang)]} examples "
                                 f"(indices 0-{sizes[(task, lang)] - 1})", where=where)
        return ignored

    def generate(self, requests: Sequence[GenRequest]) -> list[str | None]:
        return [self.outputs.get(r.id) for r in requests]

    def loglikelihood(self, pairs: Sequence[tuple[str, str]]) -> list[tuple[float, bool]]:
        raise InputError("the replay backend scores generated text; for multiple choice use --mc-mode generate")

    def chat_template(self) -> ChatTemplate | None:
        return None

    def provenance(self) -> dict[str, Any]:
        return {"predictions": self.path, "predictions_sha256": file_sha256(self.path), "model": self.options.model}
