"""Every state × every target: exactly the moves of the design are allowed."""

from __future__ import annotations

import pytest

from buddybot.domain.lifecycle import State, allowed, reason

P, S, IP, R, K, W = (
    State.PROPOSED,
    State.SELECTED,
    State.IN_PROGRESS,
    State.REALISED,
    State.PARKED,
    State.WITHDRAWN,
)
ALLOWED = {
    (P, S),
    (S, IP),
    (IP, R),
    (P, K),
    (S, K),
    (IP, K),
    (P, W),
    (S, W),
    (IP, W),
    (K, P),
    (K, W),
}


@pytest.mark.parametrize("current", list(State))
@pytest.mark.parametrize("target", list(State))
def test_transition_table(current: State, target: State) -> None:
    assert allowed(current, target) == ((current, target) in ALLOWED)
    if (current, target) not in ALLOWED:
        assert reason(current, target) in {"same", "closed", "parked", "backwards", "skip"}


def test_reasons_name_the_problem() -> None:
    assert reason(P, P) == "same"
    assert reason(R, K) == "closed"
    assert reason(W, P) == "closed"
    assert reason(K, S) == "parked"
    assert reason(S, P) == "backwards"
    assert reason(P, R) == "skip"
