"""One Claude API call (or one usage record from another source) as claudetop stores it.

A ``UsageEvent`` never holds prompt or completion text: only token counts, model ids,
timing, and SHA-256 fingerprints of cacheable prefixes. Token fields follow the
Anthropic usage object, with one deliberate rename: ``input_tokens`` is the *uncached*
input only, exactly as Anthropic reports it (cache writes and reads are separate).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, NonNegativeInt

from claudetop.model.money import Micros
from claudetop.model.policies import PolicyMode


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a timezone (claudetop stores UTC)")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
"""An aware datetime, normalised to UTC; naive datetimes are rejected, not guessed."""


class Endpoint(StrEnum):
    """Which API surface produced the event."""

    MESSAGES = "messages"
    COUNT_TOKENS = "count_tokens"
    BATCH_CREATE = "batch_create"
    BATCH_RETRIEVE = "batch_retrieve"
    BATCH_LIST = "batch_list"
    BATCH_CANCEL = "batch_cancel"
    BATCH_RESULTS = "batch_results"
    BATCH_RESULT = "batch_result"
    """One result line of a batch: carries the tokens, priced at batch rates."""
    MODELS = "models"
    OTHER = "other"


class PrefixFingerprint(BaseModel):
    """A cacheable prefix, identified by hash: enough to find fragmentation, drift and TTL gaps.

    ``scope`` says where the prefix ends (after the tools, the system prompt, or a
    breakpoint inside the messages); ``breakpoint`` is true when the request carried
    ``cache_control`` there, ``ttl`` the TTL it asked for.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    scope: Literal["tools", "system", "messages"]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    tokens: NonNegativeInt
    breakpoint: bool = False
    ttl: Literal["5m", "1h"] | None = None


class PolicyDecision(BaseModel):
    """What one policy did (``enforce``) or would have done (``shadow``) to this request."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    policy: str
    mode: PolicyMode
    action: str
    """Short machine-readable verb with arguments, e.g. ``cache ttl=1h`` or ``route claude-haiku-4-5``."""
    changed_request: bool
    saving_micros: Micros | None = None
    """Estimated cost difference (positive = saves money); ``None`` when it cannot be known."""


class UsageEvent(BaseModel):
    """A single usage record; the unit every source yields and every sink stores.

    ``id`` is stable: reading the same source twice yields the same ids, which is what
    makes re-reading idempotent. ``cost_micros`` is ``None`` when the model is unpriced,
    never 0 by default.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, Field(min_length=1, max_length=200)]
    ts: UtcDatetime
    source: str = "hook"

    app: str | None = None
    host: str | None = None
    pid: int | None = None
    api_key_fp: str | None = None
    """A short SHA-256 fingerprint of the API key; the key itself is never stored."""
    project: str | None = None
    session: str | None = None

    task: str | None = None
    endpoint: Endpoint = Endpoint.MESSAGES
    requested_model: str | None = None
    model: str | None = None
    """The model that served the request (after any routing)."""
    batch_id: str | None = None
    custom_id: str | None = None
    deferred: bool = False
    """Sent through claudetop's batch deferral queue rather than by the app itself."""
    stream: bool = False

    status: int | None = None
    error_type: str | None = None
    retries: NonNegativeInt = 0
    latency_ms: Annotated[float, Field(ge=0)] | None = None
    ttft_ms: Annotated[float, Field(ge=0)] | None = None

    input_tokens: NonNegativeInt = 0
    output_tokens: NonNegativeInt = 0
    cache_write_5m_tokens: NonNegativeInt = 0
    cache_write_1h_tokens: NonNegativeInt = 0
    cache_read_tokens: NonNegativeInt = 0
    thinking_tokens: NonNegativeInt = 0
    web_search_requests: NonNegativeInt = 0
    web_fetch_requests: NonNegativeInt = 0

    service_tier: str | None = None
    inference_geo: str | None = None
    speed: str | None = None
    """``"fast"`` for fast mode (priced at its own, higher rates); ``"standard"`` or absent otherwise."""
    max_tokens: NonNegativeInt | None = None
    stop_reason: str | None = None

    prefixes: tuple[PrefixFingerprint, ...] = ()
    policies: tuple[PolicyDecision, ...] = ()

    cost_micros: Micros | None = None

    @property
    def cache_write_tokens(self) -> int:
        return self.cache_write_5m_tokens + self.cache_write_1h_tokens

    @property
    def prompt_tokens(self) -> int:
        """Everything the model read: uncached input plus cache writes and reads."""
        return self.input_tokens + self.cache_write_tokens + self.cache_read_tokens

    @property
    def is_batch(self) -> bool:
        return self.service_tier == "batch" or self.endpoint is Endpoint.BATCH_RESULT

    @property
    def billable(self) -> bool:
        """Whether the event carries tokens that cost money (not a poll or a list call)."""
        return self.endpoint in (Endpoint.MESSAGES, Endpoint.BATCH_RESULT)
