"""The identity-key ``null`` test of the scan agrees with ccusage's rule written as a regex."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from claudetop.sources.claude_code_scan import _has_null_field

_KEYS = (
    "id", "cwd", "model", "speed", "costUSD", "version", "sessionId", "requestId", "isApiErrorMessage",
    "cache_read_input_tokens", "cache_creation_input_tokens",
)  # fmt: skip
_RULE = re.compile(rb'"(?:' + b"|".join(k.encode() for k in _KEYS) + rb')":null')
_PIECES = st.sampled_from(
    [b'"', b":null", b'":null', b",", b"{", b"}", b"x", b"\\", b"uuid", b"ids", *(k.encode() for k in _KEYS)]
)


@given(st.lists(_PIECES, max_size=12))
def test_agrees_with_the_regex_on_any_arrangement_of_keys_quotes_and_nulls(pieces: list[bytes]) -> None:
    line = b"".join(pieces)
    assert _has_null_field(line) == bool(_RULE.search(line))


def test_examples() -> None:
    assert _has_null_field(b'{"message":{"id":null},"usage":{}}')
    assert _has_null_field(b'{"text":"x","a":{"cwd":null},"usage":{}}')
    assert not _has_null_field(b'{"uuid":null,"usage":{}}')
    assert not _has_null_field(b'id":null,"usage":{')
