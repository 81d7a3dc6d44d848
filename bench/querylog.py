"""Read Prometheus's query log: which queries it evaluated, and over how many steps."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class LoggedQuery:
    query: str
    start: float
    end: float
    step: float

    @property
    def points(self) -> int:
        """Evaluation steps: 1 for an instant query."""
        return 1 if self.step == 0 else int((self.end - self.start) // self.step) + 1


class QueryLog:
    """Everything Prometheus logged after ``mark()``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0

    def mark(self) -> None:
        self._offset = self.path.stat().st_size if self.path.exists() else 0

    def since_mark(self) -> list[LoggedQuery]:
        if not self.path.exists():
            return []
        with self.path.open("rb") as log:
            log.seek(self._offset)
            lines = log.read().decode().splitlines()
        return [_parse(json.loads(line)) for line in lines if line.strip()]


def _parse(entry: dict) -> LoggedQuery:
    params = entry["params"]
    return LoggedQuery(
        params["query"], _seconds(params["start"]), _seconds(params["end"]), float(params["step"])
    )


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
