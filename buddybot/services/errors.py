"""Refusals: expected answers to bad input or missing rights. They change nothing."""

from __future__ import annotations


class Refusal(Exception):
    """A request the bot says no to. ``key`` names the text (``refusal.<key>``)."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class NotAllowed(Refusal):
    def __init__(self, key: str = "facilitators_only", **params: object) -> None:
        super().__init__(key, **params)
