"""Output caps lower max_tokens only for capped tasks and only when the request asks for more."""

from claudetop.policies.caps import plan_cap

CAPS = {"extraction": 512}


def test_lowers_only_above_the_cap() -> None:
    assert plan_cap("extraction", {"max_tokens": 4096}, CAPS) == 512
    assert plan_cap("extraction", {"max_tokens": 512}, CAPS) is None
    assert plan_cap("extraction", {"max_tokens": 100}, CAPS) is None


def test_uncapped_or_untagged_requests_are_left_alone() -> None:
    assert plan_cap("chat", {"max_tokens": 4096}, CAPS) is None
    assert plan_cap(None, {"max_tokens": 4096}, CAPS) is None


def test_missing_max_tokens_gets_the_cap() -> None:
    assert plan_cap("extraction", {}, CAPS) == 512
