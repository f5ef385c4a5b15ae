"""``on_fork_in_child``: what the objects of a forked child renew, and what it never keeps alive."""

from __future__ import annotations

import pytest

from claudetop.sinks.forksafe import on_fork_in_child
from tests.forked import in_forked_child


class _Renewing:
    def __init__(self, fails: bool = False) -> None:
        self.fails = fails
        self.renewed = 0
        on_fork_in_child(self._renew)

    def _renew(self) -> None:
        self.renewed += 1
        if self.fails:
            raise RuntimeError("cannot renew")


def test_a_child_renews_every_object_once_even_after_one_fails() -> None:
    objects = [_Renewing(), _Renewing(fails=True), _Renewing()]
    assert in_forked_child(lambda: [o.renewed for o in objects] == [1, 1, 1])
    assert [o.renewed for o in objects] == [0, 0, 0]  # the parent renews nothing


def test_only_a_bound_method_can_be_registered() -> None:
    with pytest.raises(TypeError, match="bound method"):
        on_fork_in_child(lambda: None)
