"""Eval results and the validation gate that stops blind downshifting.

A cheaper model may only be *enforced* for a task once someone has checked it does the job:
either the config lists the task in ``routing.validated_tasks``, or ``record_eval`` results for
that task on that model reach ``routing.min_eval_pass_rate`` over at least ``MIN_EVALS`` evals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from claudetop.config import Config, RoutingConfig, load_config, sink_target
from claudetop.policies.db import PolicyDb, Query, open_policy_db
from claudetop.sinks.schema import format_ts

MIN_EVALS = 20
"""Fewer results than this say too little about a pass rate to let a downshift through."""

EVAL_WINDOW = 200
"""Only the most recent results count: a model that got worse on a task loses its validation."""


@dataclass(frozen=True)
class EvalStats:
    task: str
    model: str
    passed: int
    total: int

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.total if self.total else None


@dataclass(frozen=True)
class Validation:
    ok: bool
    reason: str
    """Why the task is (or is not) validated on the model, in words for an operator."""


def write_eval(db: PolicyDb, task: str, model: str, passed: bool, at: datetime) -> None:
    db.write(
        lambda query: query(
            "INSERT INTO eval_results (at, task, model, passed) VALUES (?, ?, ?, ?)",
            (format_ts(at), task, model, int(passed)),
        )
    )


def record_eval(task: str, model: str, passed: bool, *, sink: str | Path | None = None) -> None:
    """Record that ``model`` passed (or failed) one evaluation on ``task``; feeds the routing gate.

    ``sink`` defaults to the configured sink, the same file the hook writes and the policy store reads.
    """
    if not task or not model:
        raise ValueError("record_eval needs a task and a model")
    target = sink if sink is not None else sink_target(load_config())
    db = open_policy_db(target)
    try:
        write_eval(db, task, model, passed, datetime.now(UTC))
    finally:
        db.close()


def eval_stats(query: Query, task: str, model: str, window: int = EVAL_WINDOW) -> EvalStats:
    (row,) = query(
        "SELECT count(*) AS total, coalesce(sum(passed), 0) AS passed FROM (SELECT passed FROM eval_results "
        "WHERE task = ? AND model = ? ORDER BY seq DESC LIMIT ?) AS recent",
        (task, model, window),
    )
    return EvalStats(task=task, model=model, passed=int(row["passed"]), total=int(row["total"]))


def validation(routing: RoutingConfig, stats: EvalStats) -> Validation:
    """Whether a downshift of ``stats.task`` to ``stats.model`` may be enforced (pure)."""
    if not routing.validation_required:
        return Validation(True, "validation not required by config (routing.validation_required = false)")
    if stats.task in routing.validated_tasks:
        return Validation(True, f"task {stats.task!r} is listed in routing.validated_tasks")
    rate = stats.pass_rate
    if stats.total >= MIN_EVALS and rate is not None and rate >= routing.min_eval_pass_rate:
        return Validation(True, f"{stats.passed}/{stats.total} evals passed on {stats.model}")
    have = f"{stats.passed}/{stats.total} evals passed" if stats.total else "no evals recorded"
    return Validation(
        False,
        f"task {stats.task!r} is not validated on {stats.model} ({have}; needs >= {MIN_EVALS} evals "
        f"with pass rate >= {routing.min_eval_pass_rate:.0%}, or the task in routing.validated_tasks)",
    )


def check(query: Query, config: Config, task: str, model: str) -> Validation:
    return validation(config.routing, eval_stats(query, task, model))
