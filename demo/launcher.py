"""The one-command demo behind ``make run`` (when ``PROMETHEUS_URL`` is not set).

    python -m demo.launcher [--port 8000] [--prometheus-port 9090] [--traffic-port 9101]

Starts, on 127.0.0.1 only: the synthetic traffic source (demo/traffic.py), Debian's
Prometheus scraping it (job ``llm-gateway``) and the service (job ``model-latency-api``),
and the service against that Prometheus. Before Prometheus starts, the last hour of demo
traffic is written into its storage (demo/backfill.py), so the chart is full at once. A
port that is taken is replaced by the next free one, and the launcher says so. It prints
the URLs, waits until the API answers with real numbers, and on Ctrl-C or SIGTERM stops
everything it started.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx

from demo.backfill import history, write_blocks
from harness.processes import poll_until, port_is_free, stop_process

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
PORT_SEARCH = 50  # how far past a taken port to look for a free one
STOP_GRACE_SECONDS = 10.0


def pick_port(wanted: int, taken: set[int]) -> int:
    """``wanted`` if it is free, else the next free port above it."""
    for port in range(wanted, min(wanted + PORT_SEARCH, 65536)):
        if port not in taken and port_is_free(port):
            return port
    raise SystemExit(f"no free port in {wanted}..{wanted + PORT_SEARCH - 1} on {HOST}")


RULES_DIR = Path(__file__).resolve().parent.parent / "deploy" / "prometheus" / "rules"


def prometheus_config(traffic_port: int, service_port: int, scrape_seconds: float) -> str:
    """Scrape config with the job names deploy/prometheus.yml and its rules use."""
    return (
        "# Written by demo/launcher.py for `make run`; rewritten at every start.\n"
        "global:\n"
        f"  scrape_interval: {scrape_seconds:g}s\n"
        f"  evaluation_interval: {scrape_seconds:g}s\n"
        "rule_files:\n"
        f'  - "{RULES_DIR}/*.yml"\n'
        "scrape_configs:\n"
        "  - job_name: llm-gateway\n"
        "    static_configs:\n"
        f'      - targets: ["{HOST}:{traffic_port}"]\n'
        "  - job_name: model-latency-api\n"
        "    static_configs:\n"
        f'      - targets: ["{HOST}:{service_port}"]\n'
    )


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class Demo:
    """The processes started so far, stopped together in reverse order."""

    workdir: Path
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Child:
        log = self.workdir / f"{name}.log"
        with log.open("wb") as out:
            # A session of its own: Ctrl-C reaches only the launcher, which stops the
            # whole group (uvicorn workers included) in order.
            process = subprocess.Popen(
                argv,
                cwd=ROOT,
                env={**os.environ, **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        child = Child(name, process, log)
        self.children.append(child)
        return child

    def exited(self) -> Child | None:
        return next((c for c in self.children if c.process.poll() is not None), None)

    def stop(self) -> None:
        for child in reversed(self.children):
            stop_process(child.process, group=True, grace=STOP_GRACE_SECONDS)
        self.children.clear()


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Interrupted(Exception):
    """Ctrl-C or SIGTERM arrived."""


class ChildExited(Exception):
    def __init__(self, child: Child) -> None:
        super().__init__(f"{child.name} exited with code {child.process.returncode}")
        self.child = child


def wait_until(demo: Demo, ready: Callable[[], bool], timeout: float) -> bool:
    """Poll ``ready`` until it holds; False after ``timeout``; raise if a child died."""

    def alive() -> None:
        child = demo.exited()
        if child is not None:
            raise ChildExited(child)

    return poll_until(ready, timeout=timeout, interval=0.5, check=alive)


def answers(url: str) -> bool:
    return httpx.get(url, timeout=2, trust_env=False).status_code == 200


def has_numbers(service_url: str) -> bool:
    """True once the summary endpoint reports a p95 for some model."""
    body = httpx.get(f"{service_url}/api/metrics/", timeout=5, trust_env=False).json()
    return any(item.get("p95_latency_ms") is not None for item in body.get("data", []))


def scraping(prometheus_url: str) -> bool:
    """True once Prometheus has scraped the traffic source (the backfilled hour aside)."""
    params = {"query": 'up{job="llm-gateway"} == 1'}
    body = httpx.get(f"{prometheus_url}/api/v1/query", params=params, timeout=5, trust_env=False)
    return bool(body.json().get("data", {}).get("result"))


def service_command(port: int) -> list[str]:
    """scripts/serve.sh when the project has it (multiprocess metrics), else uvicorn."""
    serve = ROOT / "scripts" / "serve.sh"
    if serve.is_file() and os.access(serve, os.X_OK):
        return [str(serve)]
    return [sys.executable, "-m", "uvicorn", "app.main:app", "--host", HOST, "--port", str(port)]


def find_promtool(prometheus: str) -> str | None:
    """promtool beside the prometheus binary (Debian ships both), else on PATH."""
    beside = Path(prometheus).with_name("promtool")
    return str(beside) if beside.exists() else shutil.which("promtool")


def backfill(data: Path, args: argparse.Namespace, traffic_port: int) -> None:
    """Write the last ``--backfill-minutes`` of traffic into ``data`` before Prometheus opens it.

    The labels are those a scrape of the traffic source gets, so the history and the live
    data are the same series. Without promtool the demo starts with an empty chart."""
    if args.backfill_minutes <= 0:
        return
    promtool = find_promtool(args.prometheus)
    if promtool is None:
        print("promtool not found: the chart fills as the demo runs", flush=True)
        return
    labels = {"job": "llm-gateway", "instance": f"{HOST}:{traffic_port}"}
    text = history(
        end=time.time(),
        labels=labels,
        seconds=args.backfill_minutes * 60,
        interval=max(args.scrape_interval, 5.0),
        seed=args.seed,
    )
    try:
        write_blocks(text, data, promtool=promtool, workdir=data.parent)
    except subprocess.CalledProcessError as exc:
        print(f"backfill failed, the chart fills as the demo runs:\n{exc.stderr}", flush=True)
        return
    print(f"Backfilled the last {args.backfill_minutes:g} minutes of demo traffic.", flush=True)


def start_all(demo: Demo, args: argparse.Namespace, ports: dict[str, int]) -> None:
    data = demo.workdir / "prometheus-data"
    shutil.rmtree(data, ignore_errors=True)  # a fresh history: the traffic clock restarts too
    backfill(data, args, ports["traffic"])
    config = demo.workdir / "prometheus.yml"
    config.write_text(prometheus_config(ports["traffic"], ports["service"], args.scrape_interval))
    traffic = [
        sys.executable,
        "-m",
        "demo.traffic",
        "--host",
        HOST,
        "--port",
        str(ports["traffic"]),
    ]
    demo.start("traffic", [*traffic, "--seed", str(args.seed), "--speed", str(args.speed)])
    demo.start(
        "prometheus",
        [
            args.prometheus,
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            "--storage.tsdb.retention.time=1d",
            f"--web.listen-address={HOST}:{ports['prometheus']}",
        ],
    )
    env = {
        "PROMETHEUS_URL": f"http://{HOST}:{ports['prometheus']}",
        "HOST": HOST,
        "PORT": str(ports["service"]),
    }
    demo.start("service", service_command(ports["service"]), env)


def banner(ports: dict[str, int], workdir: Path) -> str:
    service = f"http://{HOST}:{ports['service']}"
    return "\n".join(
        [
            "",
            "Model Latency API demo is running (on this machine only):",
            f"  status page     {service}/",
            f"  API docs        {service}/docs   (ReDoc: {service}/redoc)",
            f"  latency JSON    {service}/api/metrics/",
            f"  Prometheus      http://{HOST}:{ports['prometheus']}/",
            f"  demo traffic    http://{HOST}:{ports['traffic']}/metrics",
            f"  logs            {workdir}/*.log",
            "Press Ctrl-C to stop everything.",
            "",
        ]
    )


def choose_ports(args: argparse.Namespace) -> dict[str, int]:
    ports: dict[str, int] = {}
    for name, wanted in (
        ("service", args.port),
        ("prometheus", args.prometheus_port),
        ("traffic", args.traffic_port),
    ):
        ports[name] = pick_port(wanted, set(ports.values()))
        if ports[name] != wanted:
            print(f"port {wanted} is taken; the {name} uses {ports[name]} instead", flush=True)
    return ports


def run(args: argparse.Namespace, demo: Demo) -> int:
    ports = choose_ports(args)
    start_all(demo, args, ports)
    service = f"http://{HOST}:{ports['service']}"
    checks = (
        ("demo traffic", f"http://{HOST}:{ports['traffic']}/metrics"),
        ("Prometheus", f"http://{HOST}:{ports['prometheus']}/-/ready"),
        ("service", f"{service}/api/status/config/"),
    )
    for name, url in checks:
        if not wait_until(demo, functools.partial(answers, url), args.start_timeout):
            print(f"{name} did not start within {args.start_timeout:g}s", file=sys.stderr)
            return 1
    print(banner(ports, demo.workdir), flush=True)
    started = time.monotonic()
    prometheus = f"http://{HOST}:{ports['prometheus']}"

    def live() -> bool:
        return scraping(prometheus) and has_numbers(service)

    if wait_until(demo, live, args.start_timeout):
        print(f"Live numbers are in after {time.monotonic() - started:.0f}s.", flush=True)
    else:
        print("No numbers yet; see the logs above if this persists.", flush=True)
    wait_until(demo, lambda: False, float("inf"))
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m demo.launcher", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    parser.add_argument("--prometheus-port", type=int, default=9090)
    parser.add_argument("--traffic-port", type=int, default=9101)
    parser.add_argument("--workdir", type=Path, default=ROOT / ".demo")
    parser.add_argument("--prometheus", default=shutil.which("prometheus") or "/usr/bin/prometheus")
    parser.add_argument("--scrape-interval", type=float, default=5.0, help="seconds (default 5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--speed", type=float, default=1.0, help="see demo.traffic --speed")
    parser.add_argument("--start-timeout", type=float, default=60.0, help="seconds per step")
    parser.add_argument(
        "--backfill-minutes",
        type=float,
        default=60.0,
        help="minutes of past traffic written into Prometheus before it starts (0: none)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo until Ctrl-C or SIGTERM, then stop every process it started."""
    args = parse_args(argv)
    if not Path(args.prometheus).exists():
        print(
            f"{args.prometheus} not found: `make run` installs it, "
            "or run ./scripts/install-system.sh prometheus",
            file=sys.stderr,
        )
        return 1
    args.workdir.mkdir(parents=True, exist_ok=True)
    demo = Demo(args.workdir.resolve())

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise Interrupted

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        return run(args, demo)
    except Interrupted:
        print("\nstopping the demo…", flush=True)
        return 0
    except ChildExited as exc:
        print(f"{exc}; its log ends with:\n{tail(exc.child.log)}", file=sys.stderr)
        return 1
    finally:
        # A second Ctrl-C must not cut the cleanup short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        demo.stop()
        print("demo stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
