"""What genai-prices answered, remembered across processes (``remember_prices_in``): the same prices to
the last digit, without loading the library, and never a stale or damaged answer."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from claudetop.pricing import _genai

DAYS = (date(2024, 6, 1), date(2026, 3, 1), date(2026, 3, 20), date(2026, 10, 14), date(2026, 12, 1))
KINDS = (_genai.standard_prices, _genai.batch_prices, _genai.fast_prices)


def _forget() -> None:
    """A fresh process's view: nothing asked yet in this one."""
    _genai.resolve.cache_clear()
    _genai.price_change_dates.cache_clear()


@pytest.fixture(autouse=True)
def _no_memo() -> Iterator[None]:
    _forget()
    _genai.remember_prices_in(None)
    yield
    _forget()
    _genai.remember_prices_in(None)


def _answers() -> list[object]:
    out: list[object] = []
    for model in _genai.catalog():
        out.append(_genai.resolve(model.id))
        out.append(_genai.price_change_dates(model.id))
        out += [kind(model.id, day) for kind in KINDS for day in DAYS]
    out.append(_genai.resolve("claude-not-a-model"))
    return out


def test_remembered_answers_equal_the_library_for_every_published_model(tmp_path: Path) -> None:
    live = _answers()
    assert sum(a is not None for a in live) > 100
    memo = tmp_path / "prices.json"
    _forget()
    _genai.remember_prices_in(memo)
    assert _answers() == live
    written = json.loads(memo.read_text())["answers"]
    _forget()
    _genai.remember_prices_in(memo)  # a new process reading the file
    assert _answers() == live
    assert json.loads(memo.read_text())["answers"] == written  # nothing had to be asked again


PRICE_SOME = """
import json, sys
from datetime import UTC, datetime
from pathlib import Path
from claudetop.model import UsageEvent
from claudetop.pricing import PriceBook, remember_prices_in
remember_prices_in(Path(sys.argv[1]))
book = PriceBook()
costs = [
    book.cost(UsageEvent(id=str(i), ts=datetime(2026, 11, day, tzinfo=UTC), model=model, input_tokens=1234,
                         output_tokens=567, cache_write_1h_tokens=89, cache_read_tokens=250_000))
    for i, (model, day) in enumerate([("claude-sonnet-4-6", 3), ("claude-opus-4-1-20250805", 9),
                                      ("claude-haiku-4-5", 20), ("nobody-knows", 1)])
]
print(json.dumps({"costs": costs, "loaded": "genai_prices" in sys.modules}))
"""


def _price_some(memo: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", PRICE_SOME, str(memo)], capture_output=True, text=True, check=True
    ).stdout
    result: dict[str, object] = json.loads(out)
    return result


def test_a_later_process_prices_from_the_memo_without_loading_genai_prices(tmp_path: Path) -> None:
    memo = tmp_path / "state" / "prices.json"
    first = _price_some(memo)
    assert first["loaded"] is True and memo.exists()
    again = _price_some(memo)
    assert again == {"costs": first["costs"], "loaded": False}
    costs = first["costs"]
    assert isinstance(costs, list) and costs[3] is None and all(isinstance(c, int) for c in costs[:3])


def test_answers_of_other_versions_damaged_ones_and_unwritable_files_are_not_trusted(tmp_path: Path) -> None:
    live = _price_some(tmp_path / "live.json")
    remembered = json.loads((tmp_path / "live.json").read_text())
    valid_for = remembered["for"]
    question = next(q for q in remembered["answers"] if q.startswith("standard claude-sonnet-4-6 "))
    memo = tmp_path / "prices.json"
    free = {"base": ["0", "0", "0", "0", "0"], "tiers": [], "web": "0"}
    memo.write_text(json.dumps({"for": "genai-prices 0.0.1; claudetop 0.0.1", "answers": {question: free}}))
    assert _price_some(memo)["costs"] == live["costs"]  # another version's answers: asked again
    for undecodable in ({"base": ["x"] * 5, "tiers": [], "web": "0"}, {}, []):
        memo.write_text(json.dumps({"for": valid_for, "answers": {question: undecodable}}))
        assert _price_some(memo)["costs"] == live["costs"]
        assert json.loads(memo.read_text())["answers"][question] == remembered["answers"][question]
    memo.write_text("{not json")
    assert _price_some(memo)["costs"] == live["costs"]
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    assert _price_some(blocked / "prices.json") == live  # cannot be written: priced all the same


def test_the_version_answers_are_kept_under_is_the_installed_one() -> None:
    from importlib.metadata import version

    _genai.source_version.cache_clear()
    assert _genai.source_version() == version("genai-prices")
