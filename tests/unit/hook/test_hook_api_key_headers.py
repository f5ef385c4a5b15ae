"""The API key is read from the headers as sent (on the writer thread): x-api-key or a bearer token."""

import hashlib

import httpx2

from claudetop.hook.attempt import api_key_of
from claudetop.hook.build import api_key_fingerprint


def test_api_key_from_either_header() -> None:
    assert api_key_of(httpx2.Headers({"X-Api-Key": "sk-ant-1"})) == "sk-ant-1"
    assert api_key_of(httpx2.Headers({"authorization": "Bearer tok-2"})) == "tok-2"
    assert api_key_of(httpx2.Headers({"content-type": "application/json"})) is None
    assert api_key_of(None) is None


def test_fingerprint_is_a_short_sha256_prefix() -> None:
    assert api_key_fingerprint("sk-ant-1") == hashlib.sha256(b"sk-ant-1").hexdigest()[:12]
