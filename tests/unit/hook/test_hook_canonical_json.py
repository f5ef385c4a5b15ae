"""Prefix digests hash ``json.dumps(sort_keys=True, separators=(",", ":"))`` of each block: the fast
``orjson`` path must give exactly those bytes, or digests would change across versions and hosts."""

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from claudetop.hook.fingerprints import _canonical


def reference(block: Any) -> bytes:
    if isinstance(block, dict):
        block = {k: v for k, v in block.items() if k != "cache_control"}
    return json.dumps(block, sort_keys=True, separators=(",", ":")).encode()


leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(alphabet=st.characters(codec=None))
    | st.text(alphabet=st.characters(max_codepoint=0x7F))
)
values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(values)
def test_canonical_bytes_equal_the_json_reference(block: Any) -> None:
    assert _canonical(block) == reference(block)


def test_known_differences_between_the_encoders_take_the_json_path() -> None:
    for block in (
        {"type": "text", "text": "caf\u00e9 \u2028 \U0001f600"},
        {"type": "text", "text": "del \x7f"},
        {"minimum": 1e-05, "maximum": 2.5e-9},
        {"big": 2**70},
        {"x": float("nan"), "y": float("inf")},
        float("-inf"),
        [1e-07, "a:1.5", None],
        {"text": "lone \ud800 surrogate"},
        {"type": "text", "text": "plain " * 1000, "cache_control": {"type": "ephemeral", "ttl": "1h"}},
    ):
        assert _canonical(block) == reference(block)
