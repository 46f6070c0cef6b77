"""A wijk's own settings, stored as JSON on the wijk, with defaults for what is not set."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class WijkSettings:
    # Ideas and wijkkampioenen
    champion_confirmation: bool = False  # a facilitator confirms new champions
    max_champions: int = 3
    recruit_threshold: int = 5  # supporters before the bot asks who pulls the idea
    ideas_per_hour: int = 5  # per person
    # Meetings and announcements (durations in seconds)
    reminder_offsets: tuple[int, ...] = (24 * 3600, 2 * 3600)
    followup_after: int = 3 * 3600  # after the start: "what came up? add it as an idea"
    meeting_duration: int = 2 * 3600  # for calendar files
    max_ahead: int = 731 * 24 * 3600  # dates further ahead are refused (meetings, votes, ...)
    pin_meetings: bool = True
    pin_warned: bool = False  # told the facilitators once that pinning needs admin rights
    digest: bool = True
    digest_weekday: int = 6  # 0 = Monday … 6 = Sunday
    digest_time: str = "17:00"
    # Nudges for quiet ideas
    nudges: bool = True
    nudge_after: int = 7 * 24 * 3600  # seconds without activity before the first rung
    quiet_start: str = "21:00"  # no nudges from …
    quiet_end: str = "09:00"  # … until (local time)
    nudge_cap: int = 2  # group nudge messages per day
    nudge_days: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)  # weekdays nudges may go out

    @classmethod
    def load(cls, stored: dict[str, Any] | None) -> WijkSettings:
        stored = stored or {}
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in stored.items() if k in known}
        for key in ("reminder_offsets", "nudge_days"):
            if key in values:
                values[key] = tuple(int(v) for v in values[key])
        return cls(**values)

    def dump(self) -> dict[str, Any]:
        data = asdict(self)
        data["reminder_offsets"] = list(self.reminder_offsets)
        data["nudge_days"] = list(self.nudge_days)
        return data

    def with_(self, **changes: Any) -> WijkSettings:
        return replace(self, **changes)
