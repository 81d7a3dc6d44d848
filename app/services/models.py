"""The model scorecard: every signal of every model, per source profile, in one answer.

``model_table`` answers ``GET /api/models/``: it picks the profiles (the request's
``profile``, the pinned ``MODEL_PROFILE`` list, or every profile whose metric names the
engine has), resolves each signal to the metric name the engine has (or marks it
missing), evaluates the signals concurrently (one query each, through the response
cache: ``app/services/signals.py``) and builds one row per model and source. A
signal whose query fails is null in every row, named in ``warnings``, and makes the
answer ``partial`` (never cached).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from app.cache.core import ResponseCache
from app.errors import InvalidParameter, UpstreamError
from app.offload import off_loop
from app.params import Percentile
from app.profiles.detect import MetricNames
from app.profiles.loader import ProfileRegistry
from app.profiles.model import DURATION_SIGNALS, SIGNALS, Profile, SignalName
from app.promql.durations import iso8601
from app.promql.upstream import Upstream
from app.schemas.model_queries import ModelsBase, ModelsQuery
from app.services.compare import Evaluated, attach, beside, with_notes
from app.services.encoding import Encoded
from app.services.kinds import HistogramKinds
from app.services.latency import percentile_key
from app.services.settled import SettledCache
from app.services.signals import Ask, ByModel, Plan, SignalAnswer, Value, evaluate

P95 = Percentile("95", 95.0)
FIELDS: dict[str, str] = {
    "latency": "latency_ms",
    "ttft": "ttft_ms",
    "inter_token_latency": "inter_token_latency_ms",
    "queue": "queue_ms",
}
VALUE_FIELDS = tuple(FIELDS.get(signal, signal) for signal in SIGNALS)
"""A row's value fields: what ``previous`` repeats with ``compare``."""


@dataclass(frozen=True, slots=True)
class Board:
    """What the scorecard needs from the server: engine, caches, profiles, thresholds."""

    upstream: Upstream
    cache: ResponseCache
    kinds: HistogramKinds
    names: MetricNames
    registry: ProfileRegistry
    fixed_matchers: tuple[str, ...] = ()
    warning_ms: float = 100.0
    danger_ms: float = 200.0
    max_values: int = 2_000_000  # MAX_RESPONSE_POINTS: values one range answer may hold
    settled: SettledCache | None = None  # earlier evaluations kept (compare=)


@dataclass(frozen=True, slots=True)
class Sources:
    """The profiles answering, their resolved signals, and what each lacks."""

    profiles: list[tuple[str, Profile]]
    plans: list[Plan]
    absent: dict[str, list[SignalName]]


def candidates(board: Board, query: ModelsBase) -> list[str]:
    """The profiles a request may use: its own ``profile``, the pinned ones, or all."""
    known = board.registry.known
    if query.profile is not None:
        if query.profile not in known:
            raise InvalidParameter(
                f"is not a known profile; use one of {', '.join(sorted(known))}",
                parameter="profile",
                value=query.profile,
            )
        return [query.profile]
    return list(board.registry.pinned or sorted(known))


async def sources(board: Board, query: ModelsBase, at: float) -> Sources:
    names = candidates(board, query)
    profiles = [(name, board.registry.known[name]) for name in names]
    present = await board.names.present(
        board.upstream,
        board.registry.names,
        fixed_matchers=board.fixed_matchers,
        at=at,
    )
    detected = query.profile is None and board.registry.pinned is None
    chosen: list[tuple[str, Profile]] = []
    plans: list[Plan] = []
    absent: dict[str, list[SignalName]] = {}
    for name, profile in profiles:
        found, lacking = resolve(name, profile, present)
        if detected and not found:
            continue
        chosen.append((name, profile))
        plans += found
        absent[name] = lacking
    return Sources(chosen, plans, absent)


def resolve(
    name: str, profile: Profile, present: frozenset[str]
) -> tuple[list[Plan], list[SignalName]]:
    """Each signal's first metric name the engine has; the signals with none."""
    plans: list[Plan] = []
    lacking: list[SignalName] = []
    for signal in SIGNALS:
        top = profile.signals.get(signal)
        chain = top.chain if top is not None else []
        spec = next((one for one in chain if present.intersection(one.evidence)), None)
        if spec is None:
            lacking.append(signal)
            continue
        plans.append(Plan(name, signal, spec, profile.label_for(spec)))
    return plans, lacking


async def gather(plans: Sequence[Plan], ask: Ask) -> list[SignalAnswer]:
    """Every signal at once; a failing one is null with a warning, the others answer.

    When every signal fails the engine is down, not one query: the error goes up, so the
    cache layer can stand in with the last good answer (stale-if-error) or say why.
    """
    results = await asyncio.gather(*(evaluate(p, ask) for p in plans), return_exceptions=True)
    failed = [r for r in results if isinstance(r, UpstreamError)]
    if failed and len(failed) == len(results):
        raise failed[0]
    answers = []
    for plan, result in zip(plans, results, strict=True):
        if isinstance(result, UpstreamError):
            note = f"{plan.source} {plan.signal}: no answer ({result.message})"
            answers.append(SignalAnswer({}, [note], partial=True, failed=True))
        elif isinstance(result, BaseException):
            raise result
        else:
            answers.append(result)
    return answers


def status_of(latency: Value, rps: Value, board: Board) -> str:
    """idle without requests or latency; else good, warning, danger by p95 (or mean)."""
    value = None
    if isinstance(latency, dict):
        value = latency.get(P95.label, latency.get("mean"))
    if rps == 0 or value is None:
        return "idle"
    if value < board.warning_ms:
        return "good"
    return "warning" if value < board.danger_ms else "danger"


@dataclass(frozen=True, slots=True)
class Column:
    """One signal's field in every row of a source: its values per model as evaluated
    (percentiles keyed by label, ``95``), and how a row shows them."""

    field: str
    values: ByModel  # (empty when the source lacks the signal or its query failed)
    pairs: tuple[tuple[str, str], ...]  # (key shown, label evaluated): ("p95", "95")
    absent: Value  # a model the signal has no value for

    def cell(self, raw: Value) -> Value:
        """The percentiles asked, keyed ``p95`` (a mean, a rate or a ratio as it is)."""
        if not isinstance(raw, dict):
            return raw
        if "mean" in raw or not self.pairs:
            return raw
        return {key: raw.get(label) for key, label in self.pairs}


def column(
    signal: SignalName, found: tuple[Plan, SignalAnswer] | None, wanted: Sequence[Percentile]
) -> Column:
    field = FIELDS.get(signal, signal)
    if found is None or found[1].failed:
        return Column(field, {}, (), None)
    plan, answer = found
    if signal not in DURATION_SIGNALS:
        return Column(field, answer.values, (), None)
    pairs = tuple((percentile_key(p), p.label) for p in wanted)
    average = plan.spec.kind == "average"
    absent: Value = {"mean": None} if average else dict.fromkeys(label for _, label in pairs)
    return Column(field, answer.values, pairs, absent)


def rows(
    found: Sources, answers: list[SignalAnswer], query: ModelsQuery, board: Board
) -> list[dict[str, object]]:
    wanted = query.wanted
    by_source: dict[str, dict[str, tuple[Plan, SignalAnswer]]] = {}
    for plan, answer in zip(found.plans, answers, strict=True):
        by_source.setdefault(plan.source, {})[plan.signal] = (plan, answer)
    table = []
    for source, signals in by_source.items():
        columns = {signal: column(signal, signals.get(signal), wanted) for signal in SIGNALS}
        models = sorted({m for _, answer in signals.values() for m in answer.values})
        table += [row(model, source, columns, board) for model in models]
    return sorted(table, key=lambda r: (str(r["model"]), str(r["source"])))


def row(
    model: str, source: str, columns: dict[SignalName, Column], board: Board
) -> dict[str, object]:
    latency = columns["latency"].values.get(model)
    rps = columns["requests_per_second"].values.get(model)
    shown: dict[str, object] = {
        "model": model,
        "source": source,
        "status": status_of(latency, rps, board),
    }
    for one in columns.values():
        shown[one.field] = one.cell(one.values.get(model, one.absent))
    return shown


def ask_at(board: Board, query: ModelsQuery, at: float, pinned: float | None) -> Ask:
    percentiles = tuple(dict.fromkeys((*query.wanted, P95)))
    return Ask(
        board.upstream,
        board.cache,
        board.kinds,
        board.fixed_matchers,
        query.models,
        query.window_seconds,
        at,
        pinned,
        percentiles,
        query.histogram,
    )


async def model_table(board: Board, query: ModelsQuery) -> Encoded:
    at = query.at()
    found = await sources(board, query, at)

    async def earlier(when: float) -> Evaluated:
        then = await gather(found.plans, ask_at(board, query, when, when))
        warned = list(dict.fromkeys(w for answer in then for w in answer.warnings))
        return rows(found, then, query, board), warned, any(a.partial for a in then)

    pinned = None if query.time is None else at
    answers, before = await beside(
        gather(found.plans, ask_at(board, query, at, pinned)),
        board,
        query,
        at,
        earlier,
        VALUE_FIELDS,
    )
    data = rows(found, answers, query, board)
    attach(data, before, VALUE_FIELDS)
    warnings, partial = with_notes(notes(found, answers), any(a.partial for a in answers), before)
    document = {
        "status": "success",
        "count": len(data),
        "last_updated": iso8601(at),
        "warnings": warnings,
        "partial": partial,
        "stale": False,
        "missing": missing(found),
        "data": data,
    }
    return Encoded(await off_loop(len(data), orjson.dumps, document), partial)


def missing(found: Sources) -> list[str]:
    """Signals no source has: null in every row, named once."""
    if not found.profiles:
        return list(SIGNALS)
    return [s for s in SIGNALS if all(s in lacking for lacking in found.absent.values())]


def notes(found: Sources, answers: list[SignalAnswer]) -> list[str]:
    everywhere = set(missing(found))
    lines = list(dict.fromkeys(w for answer in answers for w in answer.warnings))
    for source, lacking in found.absent.items():
        only_here = [s for s in lacking if s not in everywhere]
        if only_here:
            lines.append(f"{source} has no {', '.join(only_here)}: null in its rows")
    if not found.profiles:
        lines.append("none of the profiles' metrics is in the engine (see docs/profiles.md)")
    return lines
