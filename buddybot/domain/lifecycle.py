"""An idea's life: proposed → selected → in_progress → realised; parked and withdrawn.

The one place that says which moves are allowed, and why not.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    PROPOSED = "proposed"
    SELECTED = "selected"
    IN_PROGRESS = "in_progress"
    REALISED = "realised"
    PARKED = "parked"
    WITHDRAWN = "withdrawn"


OPEN = frozenset({State.PROPOSED, State.SELECTED, State.IN_PROGRESS})
FORWARD = {
    State.PROPOSED: State.SELECTED,
    State.SELECTED: State.IN_PROGRESS,
    State.IN_PROGRESS: State.REALISED,
}


def allowed(current: State, target: State) -> bool:
    return reason(current, target) is None


def reason(current: State, target: State) -> str | None:
    """None when the move is allowed, else the key of why not (``transition.<key>``)."""
    if current == target:
        return "same"
    if current in (State.REALISED, State.WITHDRAWN):
        return "closed"
    if current == State.PARKED:
        return None if target in (State.PROPOSED, State.WITHDRAWN) else "parked"
    if target in (State.PARKED, State.WITHDRAWN):
        return None
    if target == State.PROPOSED:
        return "backwards"
    if FORWARD.get(current) == target:
        return None
    return "skip" if _rank(target) > _rank(current) else "backwards"


def _rank(state: State) -> int:
    order = [State.PROPOSED, State.SELECTED, State.IN_PROGRESS, State.REALISED]
    return order.index(state) if state in order else -1


def targets(current: State) -> list[State]:
    return [s for s in State if allowed(current, s)]


NAMES = {
    State.PROPOSED: ("voorgesteld", "proposed"),
    State.SELECTED: ("gekozen", "selected"),
    State.IN_PROGRESS: ("bezig", "in_progress", "inprogress", "started"),
    State.REALISED: ("gerealiseerd", "klaar", "realised", "realized", "done"),
    State.PARKED: ("geparkeerd", "parkeren", "parked", "park"),
    State.WITHDRAWN: ("ingetrokken", "intrekken", "withdrawn", "withdraw"),
}


def parse_state(word: str) -> State | None:
    """A state from what a facilitator types, in Dutch or English."""
    key = word.strip().lower().replace(" ", "_").replace("-", "_")
    for state, names in NAMES.items():
        if key == state.value or key in names:
            return state
    return None
