"""Ask a judge many questions, through the cache, with bounded retries on unreadable replies.

Round 0 sends every conversation; each later round re-sends only those whose reply could not be
parsed, with the reply and a format reminder appended (`polyalign.judge.rubric.retry_message`). After
``retries`` extra rounds a still-unreadable answer stays None: the caller counts it as unparseable.
Cached replies are used whatever round they belong to, so a rerun sends nothing at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from polyalign.judge.cache import ReplyCache, cache_key

__all__ = ["Answer", "ask_all"]

log = logging.getLogger(__name__)

Message = dict[str, str]


@dataclass
class Answer:
    """The parsed value (None = unparseable) and every raw reply, one per attempt."""

    value: Any = None
    replies: list[str] = field(default_factory=list)


def _replies(judge: Any, cache: ReplyCache, conversations: list[list[Message]]) -> list[str]:
    keys = [cache_key(judge.identity, c, judge.decoding) for c in conversations]
    replies: list[str | None] = [cache.get(k) for k in keys]
    missing = [i for i, r in enumerate(replies) if r is None]
    if missing:
        def store(j: int, reply: str) -> None:
            i = missing[j]
            replies[i] = reply
            cache.put(keys[i], judge.identity, reply)

        judge.complete_many([conversations[i] for i in missing], store)
    return [r if r is not None else "" for r in replies]


def ask_all(judge: Any, cache: ReplyCache, conversations: Sequence[list[Message]], *,
            parse: Callable[[str], Any], follow_up: Callable[[str], list[Message]], retries: int,
            label: str = "judgments") -> list[Answer]:
    """One `Answer` per conversation, in order."""
    answers = [Answer() for _ in conversations]
    current = [list(c) for c in conversations]
    todo = list(range(len(conversations)))
    for attempt in range(retries + 1):
        if not todo:
            break
        replies = _replies(judge, cache, [current[i] for i in todo])
        unread = []
        for i, reply in zip(todo, replies):
            answers[i].replies.append(reply)
            value = parse(reply)
            if value is None:
                current[i] = current[i] + follow_up(reply)
                unread.append(i)
            else:
                answers[i].value = value
        log.info("%s: attempt %d, %d asked, %d unreadable", label, attempt + 1, len(todo), len(unread))
        todo = unread
    return answers
