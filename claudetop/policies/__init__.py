"""Optimisation policies (caching, routing, batch deferral, output caps) and the store that switches them.

Policies are rows in the sink; ``PolicyStore`` reads and writes them, ``PolicyEngine`` turns the
current settings into per-request decisions for the hook.
"""

from claudetop.policies.engine import DEFERRABLE_REQUEST, PolicyEngine, PolicyOutcome
from claudetop.policies.evals import record_eval
from claudetop.policies.store import NotASQLiteSink, PolicyRefused, PolicyStore

__all__ = [
    "DEFERRABLE_REQUEST",
    "NotASQLiteSink",
    "PolicyEngine",
    "PolicyOutcome",
    "PolicyRefused",
    "PolicyStore",
    "record_eval",
]
