"""Admin commands: ``suggestions`` (list, review), ``audit``, ``system health``."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from cpctl import output
from cpctl.output import Column
from cpctl.state import state

ADMIN = "admin"
suggestions = typer.Typer(
    help="Layer 3's watchlist suggestions awaiting review (admins).", no_args_is_help=True
)
system = typer.Typer(help="The fleet's health (admins).", no_args_is_help=True)


class Status(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    DEFERRED = "deferred"
    EXPIRED = "expired"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    DEFER = "defer"


SUGGESTION_COLUMNS = [
    Column("id", "id"),
    Column("symbol", "symbol"),
    Column("type", "suggestion_type"),
    Column("confidence", "confidence", "num"),
    Column("status", "status"),
    Column("suggested", "suggested_at"),
    Column("reasoning", "ai_reasoning"),
]
AUDIT_COLUMNS = [
    Column("id", "id"),
    Column("time", "occurred_at"),
    Column("source", "source"),
    Column("actor", "actor.email"),
    Column("action", "action"),
    Column("target", "target_type"),
    Column("target id", "target_id"),
    Column("request", "request_id"),
]


@suggestions.command("list")
def list_suggestions(
    ctx: typer.Context,
    status: Annotated[Status, typer.Option()] = Status.PENDING,
    confidence_min: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.7,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
) -> None:
    """The review queue (seed defaults: pending, confidence >= 0.7, 50)."""
    current = state(ctx)
    params = {"status": status.value, "confidence_min": confidence_min, "limit": limit}
    data = current.client.call("GET", "/api/v1/layer3/suggestions", service=ADMIN, params=params)
    output.show(data, current.as_json, lambda d: output.table(d["suggestions"], SUGGESTION_COLUMNS))


@suggestions.command("review")
def review(
    ctx: typer.Context,
    suggestion_id: str,
    decision: Decision,
    note: Annotated[str, typer.Option(help="why (kept in the audit log)")] = "",
) -> None:
    """Approve (applies the watchlist change), reject or defer a suggestion."""
    current = state(ctx)
    path = f"/api/v1/layer3/suggestions/{suggestion_id}/review"
    data = current.client.call("POST", path, service=ADMIN, body={"decision": decision.value, "note": note})

    def render(d: dict[str, Any]) -> None:
        decided = d["suggestion"]
        what = f"{decided['symbol']} {decided['suggestion_type']}"
        output.stdout.print(f"{what}: {decided['status']} by {d['reviewer']}")
        if d.get("watchlist_change"):
            change = d["watchlist_change"]
            output.stdout.print(f"watchlist item {change['id']}: {change['symbol']} now in {change['tier']}")

    output.show(data, current.as_json, render)


def audit(
    ctx: typer.Context,
    action: Annotated[str | None, typer.Option(help="e.g. suggestion.approve, user.role_changed")] = None,
    actor: Annotated[str | None, typer.Option(help="actor user id")] = None,
    target_type: Annotated[str | None, typer.Option()] = None,
    target_id: Annotated[str | None, typer.Option()] = None,
    since: Annotated[str | None, typer.Option(help="ISO time with zone, e.g. 2024-01-01T00:00:00Z")] = None,
    until: Annotated[str | None, typer.Option(help="ISO time with zone")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
) -> None:
    """The audit log of admin actions, newest first (admins)."""
    current = state(ctx)
    params = {
        "action": action,
        "actor_user_id": actor,
        "target_type": target_type,
        "target_id": target_id,
        "since": since,
        "until": until,
        "limit": limit,
        "offset": offset,
    }
    data = current.client.call("GET", "/api/v1/admin/audit", service=ADMIN, params=params)
    title = "audit log: {shown} of {total}"
    output.show(
        data,
        current.as_json,
        lambda d: output.table(
            d["entries"], AUDIT_COLUMNS, title=title.format(shown=len(d["entries"]), total=d["total"])
        ),
    )


SERVICE_COLUMNS = [
    Column("service", "service"),
    Column("status", "status"),
    Column("checks", "checks"),
    Column("breakers", "circuit_breakers"),
    Column("note", "reason"),
]


@system.command("health")
def health(ctx: typer.Context) -> None:
    """Readiness, circuit breakers, consumer lag, active models and the last cascade run."""
    current = state(ctx)
    data = current.client.call("GET", "/api/v1/admin/system-health", service=ADMIN)

    def render(d: dict[str, Any]) -> None:
        rows = [{"service": name, **value} for name, value in d["services"].items()]
        output.table(rows, SERVICE_COLUMNS, title=f"system: {d['overall']}")
        lag = [
            {"group": g, "topic": t, "lag": n} for g, by in d["consumer_lag"].items() for t, n in by.items()
        ]
        output.table(
            lag,
            [Column("group", "group"), Column("topic", "topic"), Column("lag", "lag", "num")],
            title="consumer lag",
        )
        models = d["models"]
        if models["status"] == "available":
            output.table(
                models["active"],
                [Column(k, k) for k in ("service", "layer", "model", "version", "status")],
                title="models",
            )
        else:
            output.stdout.print(f"models: unavailable ({models['reason']})")
        cascade = d["cascade"]
        run = cascade.get("last_run")
        detail = (
            f"{run['run_id']} {run['status']}, {cascade['age_seconds']:.0f} s ago"
            if run
            else cascade.get("reason")
        )
        output.stdout.print(f"last cascade run: {cascade['status']} ({detail})")

    output.show(data, current.as_json, render)


def _flat(section: dict[str, Any]) -> dict[str, Any]:
    """A section with its ``signals`` counts (performance_metrics) as top-level fields."""
    nested = section.get("signals")
    if not isinstance(nested, dict):
        return section
    flat = {k: v for k, v in section.items() if k != "signals"}
    return {**flat, **{f"signals {k}": v for k, v in nested.items()}}


@system.command("dashboard")
def dashboard(
    ctx: typer.Context,
    performance_days: Annotated[
        int, typer.Option(min=1, max=365, help="window of performance_metrics, days")
    ] = 30,
) -> None:
    """The admin dashboard's four sections (performance_metrics: Layer 4's live record)."""
    current = state(ctx)
    params = {"performance_days": performance_days}
    data = current.client.call("GET", "/api/v1/dashboard/admin", service=ADMIN, params=params)

    def render(d: dict[str, Any]) -> None:
        for section, value in d.items():
            output.fields(_flat(value), title=section)

    output.show(data, current.as_json, render)
