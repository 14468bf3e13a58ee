"""A stand-in judge for judge tests: no model, replies computed from the conversation."""

from __future__ import annotations


class ScriptedJudge:
    """A judge whose reply is a function of the conversation; counts what it was asked."""

    identity = "scripted"
    decoding = {"temperature": 0.0, "max_tokens": 16}

    def __init__(self, answer) -> None:
        self.answer = answer
        self.calls = 0

    def complete_many(self, conversations, on_reply):
        for i, conversation in enumerate(conversations):
            self.calls += 1
            on_reply(i, self.answer(conversation))

    def provenance(self):
        return {"kind": "scripted"}
