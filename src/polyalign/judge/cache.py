"""An on-disk cache of judge replies, keyed by (judge, conversation, decoding), so re-runs cost nothing.

SQLite (standard library): one file, safe for the judge's worker threads, every reply committed as
it arrives so an interrupted run keeps what it paid for. The key hashes the judge's identity (endpoint
and model name, or local model and weight hash), the full conversation sent, the decoding settings
and the rubric version. A retry after an unreadable reply sends a longer conversation and so has
its own key: a rerun replays the same sequence of attempts.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from polyalign.judge.rubric import RUBRIC_VERSION

__all__ = ["ReplyCache", "cache_key"]


def cache_key(judge: str, messages: list[dict[str, str]], decoding: dict[str, Any]) -> str:
    payload = json.dumps({"judge": judge, "messages": messages, "decoding": decoding, "rubric": RUBRIC_VERSION},
                         sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class ReplyCache:
    """``get``/``put`` replies by key; ``hits`` and ``misses`` count this run's lookups."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        self._db.execute("CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, judge TEXT, reply TEXT)")
        self._db.commit()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT reply FROM replies WHERE key = ?", (key,)).fetchone()
            if row is None:
                self.misses += 1
                return None
            self.hits += 1
            return row[0]

    def put(self, key: str, judge: str, reply: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO replies (key, judge, reply) VALUES (?, ?, ?)", (key, judge, reply))
            self._db.commit()

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM replies").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
