"""Reading ``MODEL_PROFILES_FILE`` and ``MODEL_PROFILE`` at start-up, every mistake named.

``load_registry(settings)`` raises ``ProfilesError`` with one line per mistake (the
file cannot be read, is not YAML, an unknown signal, a kind that does not fit, a bad
metric or label name, an unknown profile in ``MODEL_PROFILE``); ``app/main.py``
prints them and the service does not start.

    registry = load_registry(Settings(model_profiles_file="profiles.yaml"))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from app.profiles.builtin import BUILTIN_PROFILES
from app.profiles.model import Profile, ProfileSet
from app.settings import Settings

AUTO = "auto"


class ProfilesError(Exception):
    """The profile configuration is wrong; ``lines`` names each mistake."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


@dataclass(frozen=True, slots=True)
class ProfileRegistry:
    """Every known profile by name, and the pinned ones (None: ``auto``, detected).

    ``names``: every metric name any profile may read, so one lookup per engine answers
    which exist, whichever profiles a request asks for.
    """

    known: Mapping[str, Profile]
    pinned: tuple[str, ...] | None = None
    names: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        found = {
            name
            for profile in self.known.values()
            for _, top in profile.signals.items()
            for spec in top.chain
            for name in spec.evidence
        }
        object.__setattr__(self, "names", frozenset(found))


def load_registry(settings: Settings) -> ProfileRegistry:
    """The built-in profiles, those of ``MODEL_PROFILES_FILE`` over them, and the pin."""
    known = dict(BUILTIN_PROFILES)
    if settings.model_profiles_file:
        known.update(read_profiles(Path(settings.model_profiles_file)))
    return ProfileRegistry(known, pinned_profiles(settings.model_profile, known))


def pinned_profiles(text: str, known: Mapping[str, Profile]) -> tuple[str, ...] | None:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if names in ([], [AUTO]):
        return None
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ProfilesError(
            [
                f"MODEL_PROFILE: unknown profile {name!r}; known: auto, {', '.join(sorted(known))}"
                for name in unknown
            ]
        )
    return tuple(dict.fromkeys(names))


def read_profiles(path: Path) -> dict[str, Profile]:
    """The profiles of a YAML file; ``ProfilesError`` naming every mistake in it."""
    where = f"MODEL_PROFILES_FILE {path}"
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ProfilesError([f"{where}: cannot be read ({error.strerror})"]) from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        detail = " ".join(str(error).split())
        raise ProfilesError([f"{where}: not valid YAML: {detail}"]) from None
    try:
        return dict(ProfileSet.model_validate(document).profiles)
    except ValidationError as error:
        raise ProfilesError([f"{where}: {line}" for line in mistakes(error)]) from None


def mistakes(error: ValidationError) -> list[str]:
    """One line per pydantic error: where in the file, and what is wrong there."""
    return [f"{_where(item['loc'])}: {_message(item)}" for item in error.errors()]


def _where(loc: tuple[int | str, ...]) -> str:
    # Validator steps (`function-after[...]`) and `[key]` are not places in the file.
    parts = [str(part) for part in loc if not str(part).startswith(("function-", "[key]"))]
    return ".".join(parts) or "(top level)"


def _message(item: Mapping[str, Any]) -> str:
    kind, loc = item.get("type"), item.get("loc", ())
    if kind == "extra_forbidden":
        known = SIGNAL_LIST if loc[-2:-1] == ("signals",) else "see docs/profiles.md"
        return f"not a known field here ({known})"
    if "[key]" in loc:
        return "a profile name is lower-case letters, digits, '-' and '_'"
    if kind == "missing":
        return "is required"
    message = str(item.get("msg", "is not allowed"))
    return message.removeprefix("Value error, ")


SIGNAL_LIST = "signals are " + (
    "latency, ttft, inter_token_latency, queue, requests_per_second, "
    "input_tokens_per_second, output_tokens_per_second, success_ratio"
)
