"""The results table: one row per target, its measured ratio, threshold and verdict."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

HEADER = "| # | target | measured | ratio | threshold | result |"


@dataclass(frozen=True)
class Row:
    target: str
    what: str
    measured: str
    ratio: float
    threshold: str
    passed: bool

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "FAIL"


def at_least(target: str, what: str, measured: str, ratio: float, minimum: float) -> Row:
    return Row(target, what, measured, ratio, f">= {minimum:g}", ratio >= minimum)


def at_most(target: str, what: str, measured: str, ratio: float, maximum: float) -> Row:
    return Row(target, what, measured, ratio, f"<= {maximum:g}", ratio <= maximum)


def markdown(rows: list[Row], header: str) -> str:
    lines = [header, "", HEADER, "|---|---|---|---:|---:|---|"]
    lines += [
        f"| {r.target} | {r.what} | {r.measured} | {r.ratio:.3g} | {r.threshold} | {r.verdict} |"
        for r in rows
    ]
    return "\n".join(lines) + "\n"


def previous_ratios(path: Path) -> dict[str, str]:
    """The ratio of each row of the results table in ``path`` (a committed run), keyed by
    the row's target text; empty when there is no such file."""
    if not path.exists():
        return {}
    ratios: dict[str, str] = {}
    for line in _table_lines(path.read_text()):
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 6 and not cells[0].startswith("-"):
            ratios[cells[1]] = cells[3]
    return ratios


def _table_lines(text: str) -> list[str]:
    """The lines of the table that follows ``HEADER``, up to its first non-table line."""
    lines = text.splitlines()
    if HEADER not in lines:
        return []
    table = []
    for line in lines[lines.index(HEADER) + 1 :]:
        if not line.startswith("|"):
            break
        table.append(line)
    return table


def with_previous(rows: list[Row], previous: dict[str, str]) -> list[Row]:
    """Each row with the previous run's ratio for its target text at the end of ``measured``
    (``previous: none`` for a row that run did not have), so a regression shows in the diff."""
    return [replace(row, measured=f"{row.measured}; {_previous(previous, row)}") for row in rows]


def _previous(previous: dict[str, str], row: Row) -> str:
    ratio = previous.get(row.what)
    return "previous: none" if ratio is None else f"previous {ratio}"


def kept_sections(path: Path) -> str:
    """What follows the generated table in ``path``: its sections written by hand (from the
    first ``## `` heading on), to be written again after a new table; empty if none."""
    text = path.read_text() if path.exists() else ""
    start = text.find("\n## ")
    return "" if start < 0 else "\n" + text[start + 1 :]
