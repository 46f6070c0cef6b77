"""A wijk's own settings, stored as JSON on the wijk, with defaults for what is not set."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class WijkSettings:
    # Ideas and wijkkampioenen
    champion_confirmation: bool = False  # a facilitator confirms new champions
    max_champions: int = 3
    recruit_threshold: int = 5  # supporters before the bot asks who pulls the idea
    ideas_per_hour: int = 5  # per person

    @classmethod
    def load(cls, stored: dict[str, Any] | None) -> WijkSettings:
        stored = stored or {}
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in stored.items() if k in known})

    def dump(self) -> dict[str, Any]:
        return asdict(self)
