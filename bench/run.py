"""``python -m bench``: run every target, print the table, write bench/results.md (its
sections written by hand, after the table, are kept).

Each row's measured column ends with the ratio the committed bench/results.md had for the
same target text. Exit status 0 only if every row passes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import dataset, fleet, models, native, streams, targets, wide
from bench.processes import start_prometheus
from bench.querylog import QueryLog
from bench.report import Row, kept_sections, markdown, previous_ratios, with_previous

RESULTS = Path(__file__).with_name("results.md")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs (not for the README)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the table")
    parser.add_argument(
        "--only", nargs="*", default=None, help="target functions to run, e.g. cache_hits misses"
    )
    return parser.parse_args(argv)


def require(*binaries: str) -> None:
    missing = [b for b in binaries if shutil.which(b) is None]
    if missing:
        raise SystemExit(f"missing {', '.join(missing)}: run `make install-system`")


def run_all(bench: targets.Bench, only: list[str] | None) -> list[Row]:
    steps = [
        # Misses first: right after the wrk runs the machine is still settling.
        ("misses", lambda: asyncio.run(targets.misses(bench))),
        ("cache_hits", lambda: targets.cache_hits(bench)),
        ("coalescing", lambda: asyncio.run(targets.coalescing(bench))),
        ("polling", lambda: asyncio.run(targets.polling(bench))),
        ("range_refreshes", lambda: asyncio.run(targets.range_refreshes(bench))),
        ("memory", lambda: asyncio.run(targets.memory(bench))),
        ("fleet", lambda: asyncio.run(fleet.fleet(bench))),
        ("streams", lambda: asyncio.run(streams.streams(bench))),
        ("native", lambda: asyncio.run(native.native(bench))),
    ]
    rows: list[Row] = []
    for name, step in steps:
        if only and name not in only:
            continue
        started = time.monotonic()
        print(f"-- {name} ...", file=sys.stderr, flush=True)
        rows += step()
        print(f"   done in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    require("prometheus", "promtool", "wrk", "redis-server")
    previous = previous_ratios(RESULTS)  # the committed run, before anything is measured
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        rows = with_prometheus(
            Path(tmp) / "main", dataset.write, lambda b: run_all(b, args.only), args
        )
        if not args.only or "wide_misses" in args.only:
            # The wide datasets take minutes to backfill: a Prometheus of their own, after
            # the others, so no target above asks "now" of data that ended long ago.
            rows += with_prometheus(
                Path(tmp) / "wide",
                lambda path, end: dataset.write(
                    path, end, specs=tuple(dataset.WIDE_SPECS.values())
                ),
                lambda b: asyncio.run(wide.wide_misses(b)),
                args,
            )
        if not args.only or "models" in args.only:
            # 2,000 models in vLLM's names: a Prometheus of its own too.
            rows += with_prometheus(
                Path(tmp) / "models", models.write, lambda b: asyncio.run(models.scorecard(b)), args
            )
    header = (
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{_cores()} cores, Python {platform.python_version()}"
        + (" (--quick)" if args.quick else "")
    )
    table = markdown(with_previous(rows, previous), header)
    print(table)
    if not args.only:
        args.out.write_text(table + kept_sections(args.out))
    return 0 if all(row.passed for row in rows) else 1


def with_prometheus(
    workdir: Path,
    write: Callable[[Path, int], Path],
    run: Callable[[targets.Bench], list[Row]],
    args: argparse.Namespace,
) -> list[Row]:
    """Write a dataset ending now, backfill a Prometheus with it, and run ``run`` there."""
    workdir.mkdir(parents=True)
    end = int(time.time() // 60 * 60) - 120
    source = write(workdir / "data.om", end)
    log = workdir / "query.log"
    print(f"-- backfilling {source.stat().st_size >> 20} MB ...", file=sys.stderr, flush=True)
    server = start_prometheus(workdir, source, log)
    try:
        pid = server.process.pid if server.process is not None else None
        bench = targets.Bench(
            server.url, QueryLog(log), workdir, end, quick=args.quick, engine_pid=pid
        )
        return run(bench)
    finally:
        server.stop()


def _cores() -> int:
    return len(os.sched_getaffinity(0))
