"""The monitor re-runs the what-if replays only when the policies change or the answer is stale."""

from __future__ import annotations

from collections.abc import Callable

from claudetop.ui.whatif_memo import DUTY, WhatIfMemo


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _counting(clock: FakeClock, takes_s: float = 0.0) -> tuple[list[int], Callable[[], int]]:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        clock.now += takes_s
        return len(calls)

    return calls, compute


def test_same_policies_reuse_the_answer_until_it_is_old() -> None:
    clock = FakeClock()
    memo: WhatIfMemo[int] = WhatIfMemo(min_age_s=5.0, clock=clock)
    calls, compute = _counting(clock)
    assert memo.get("policies-a", compute) == 1
    clock.now += 4.9
    assert memo.get("policies-a", compute) == 1
    clock.now += 0.2
    assert memo.get("policies-a", compute) == 2
    assert len(calls) == memo.computed == 2


def test_a_policy_change_recomputes_at_once() -> None:
    clock = FakeClock()
    memo: WhatIfMemo[int] = WhatIfMemo(min_age_s=5.0, clock=clock)
    _, compute = _counting(clock)
    memo.get("off", compute)
    assert memo.get("cache=enforce", compute) == 2
    assert memo.get("cache=enforce", compute) == 2


def test_slow_replays_are_spaced_out_to_a_small_share_of_the_time() -> None:
    clock = FakeClock()
    memo: WhatIfMemo[int] = WhatIfMemo(min_age_s=1.0, clock=clock)
    _, compute = _counting(clock, takes_s=2.0)
    memo.get("p", compute)
    clock.now += 2.0 / DUTY - 0.1
    assert memo.get("p", compute) == 1
    clock.now += 0.2
    assert memo.get("p", compute) == 2


def test_invalidate_forces_a_recompute() -> None:
    clock = FakeClock()
    memo: WhatIfMemo[int] = WhatIfMemo(clock=clock)
    _, compute = _counting(clock)
    memo.get("p", compute)
    memo.invalidate()
    assert memo.get("p", compute) == 2
