"""Service configuration, read from environment variables by pydantic-settings.

Tests build ``Settings(...)`` explicitly and pass it to ``create_app``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app import credentials
from app.credentials import normalize_url, public_url
from app.params import AllowList
from app.promql.redact import Redactor
from app.promql.selectors import parse_label_selector

CommaList = Annotated[list[str], NoDecode]


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


URL_FIELDS = frozenset({"prometheus_url", "prometheus_allowed_urls", "prometheus_ready_url"})


class Settings(BaseSettings):
    """Every knob of the service; see the README's configuration table."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    prometheus_url: str = Field(default="http://localhost:9090", pattern=r"^https?://\S+$")
    prometheus_allowed_urls: CommaList = Field(default_factory=list)
    label_selector: str = Field(default="", max_length=1000)
    prometheus_bearer_token: SecretStr | None = None
    prometheus_username: str | None = Field(default=None, max_length=200)
    prometheus_password: SecretStr | None = None
    prometheus_headers: dict[str, SecretStr] = Field(default_factory=dict)
    # Engines without `/-/ready` under their path prefix are checked with a trivial query;
    # this names a readiness URL to GET instead.
    prometheus_ready_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    # Whether error bodies and /health/ready name the upstream (never with credentials).
    expose_upstream: bool = False

    # The path prefix a reverse proxy strips (uvicorn's --root-path; scripts/serve.sh).
    root_path: str = Field(default="", pattern=r"^(/[A-Za-z0-9._~-]+)*$", max_length=200)

    # A response cache shared by replicas (Redis or Valkey); unset: each process its own.
    shared_cache_url: SecretStr | None = None
    shared_cache_prefix: str = Field(default="mla:", max_length=100)
    shared_cache_timeout_seconds: float = Field(default=0.25, gt=0, le=10)
    # Signs the shared cache's entries (HMAC-SHA256), so one written by anyone else is a
    # miss; unset: entries are validated only, and start-up warns (docs/security.md).
    shared_cache_secret: SecretStr | None = None

    cache_ttl_seconds: float = Field(default=5.0, ge=0, le=3600)
    cache_max_entries: int = Field(default=10_000, ge=1, le=1_000_000)
    cache_stale_seconds: float = Field(default=300.0, ge=0, le=86_400)
    cache_max_bytes: int = Field(default=64 << 20, ge=1 << 20, le=16 << 30)
    # Range results kept per step (app/promql/range_cache.py), per Prometheus server.
    range_cache_max_bytes: int = Field(default=32 << 20, ge=0, le=16 << 30)
    range_cache_settle_seconds: float = Field(default=60.0, ge=0, le=3600)
    # Live streams (GET /api/metrics/stream/) open at once; beyond it a 503 with Retry-After.
    stream_max_clients: int = Field(default=1000, ge=1, le=100_000)
    # Streams open at once from one client address (behind a proxy, the address uvicorn
    # takes from X-Forwarded-For, see docs/security.md), and distinct stream questions
    # followed at once (one polling loop each); beyond either a 503 with Retry-After.
    stream_max_per_client: int = Field(default=100, ge=1, le=100_000)
    stream_max_keys: int = Field(default=100, ge=1, le=100_000)
    # Seconds between comment lines on an idle stream, so proxies keep it open.
    stream_heartbeat_seconds: float = Field(default=15.0, gt=0, le=300)
    # Values (models x points) one range or history answer may hold; larger asks get a 400.
    max_response_points: int = Field(default=2_000_000, ge=1000, le=100_000_000)
    # gzip from Prometheus costs both sides CPU (docs/performance.md); it pays only over a
    # slow link, so it is off unless asked for.
    upstream_compression: bool = False
    # The largest upstream answer read (after decoding); larger ones are a 502 naming it.
    # The default holds a range answer of the default MAX_RESPONSE_POINTS.
    upstream_max_bytes: int = Field(default=64 << 20, ge=1 << 20, le=16 << 30)

    upstream_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    upstream_connect_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    upstream_max_connections: int = Field(default=32, ge=2, le=1000)
    upstream_max_concurrency: int = Field(default=16, ge=1, le=999)
    upstream_queue_timeout_seconds: float = Field(default=2.0, ge=0, le=60)
    circuit_failure_threshold: int = Field(default=5, ge=1, le=1000)
    circuit_open_seconds: float = Field(default=10.0, gt=0, le=3600)

    cors_allowed_origins: CommaList = Field(default_factory=list)
    # Which histograms and model labels a request may name (docs/security.md): exact names
    # or regular expressions matching the whole name, comma-separated; empty allows any.
    allowed_metrics: CommaList = Field(default_factory=list)
    allowed_model_labels: CommaList = Field(default_factory=list)

    # `json`: one JSON object per log line (docs/operations.md, Logging); `text`: uvicorn's.
    log_format: Literal["text", "json"] = "text"
    # OpenTelemetry traces (docs/operations.md, Tracing), under their standard names:
    # off unless an exporter or an OTLP endpoint is named.
    otel_traces_exporter: Literal["", "otlp", "console", "none"] = ""
    otel_exporter_otlp_endpoint: str = Field(default="", max_length=500)
    otel_service_name: str = Field(default="", max_length=100)

    service_name: str = Field(default="model-latency-api", max_length=100)
    environment: str = Field(default="development", max_length=100)

    # Health checks (README, "Observability and health"): results reused this long, so
    # probes cannot flood Prometheus; each check bounded by its own timeout; slower answers
    # are degraded.
    health_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    health_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    health_slow_seconds: float = Field(default=1.0, gt=0, le=60)
    # /health/metrics shows host memory, disk and load: for operators, so off unless asked.
    health_metrics_enabled: bool = False

    # The status page at `/`: p95 below warning is good, below danger is warning, else danger.
    status_warning_ms: float = Field(default=100.0, gt=0, le=3_600_000)
    status_danger_ms: float = Field(default=200.0, gt=0, le=3_600_000)
    status_refresh_seconds: float = Field(default=15.0, ge=2, le=3600)
    # The model page's SLO attainment: its first threshold and objective (percent).
    status_slo_threshold_ms: float = Field(default=1000.0, gt=0, le=3_600_000)
    status_slo_objective: float = Field(default=99.0, gt=0, le=100)

    # The model scorecard (/api/models/): `auto` uses every profile whose metrics the engine
    # has (asked once per MODEL_PROFILE_DETECT_SECONDS); a comma-separated list pins them.
    model_profile: str = Field(default="auto", max_length=1000)
    # A YAML file of profiles added to (or replacing) the built-in ones; checked at start-up.
    model_profiles_file: str | None = Field(default=None, max_length=4096)
    model_profile_detect_seconds: float = Field(default=300.0, ge=1, le=86_400)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # The repr reaches logs (uvicorn's trace level prints the lifespan state): URLs
        # appear there without credentials, as everywhere else.
        for name, value in super().__repr_args__():
            if name in URL_FIELDS and value is not None:
                value = (
                    [public_url(v) for v in value] if isinstance(value, list) else public_url(value)
                )
            yield name, value

    @field_validator(
        "prometheus_allowed_urls",
        "cors_allowed_origins",
        "allowed_metrics",
        "allowed_model_labels",
        mode="before",
    )
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return _split_commas(value)

    @field_validator("prometheus_url")
    @classmethod
    def _strip_url(cls, value: str) -> str:
        return normalize_url(value)

    @field_validator("prometheus_allowed_urls")
    @classmethod
    def _check_allowed(cls, urls: list[str]) -> list[str]:
        for number, url in enumerate(urls, 1):
            if not url.startswith(("http://", "https://")):
                # Named by position: the value may carry a password.
                raise ValueError(f"entry {number} is not an http(s) URL")
        return [normalize_url(url) for url in urls]

    @field_validator("shared_cache_secret")
    @classmethod
    def _check_cache_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # (The message never holds the value: start-up errors are printed.)
        if value is not None and len(value.get_secret_value().strip()) < 16:
            raise ValueError("must be at least 16 characters (32 or more random ones)")
        return value

    @field_validator("allowed_metrics", "allowed_model_labels")
    @classmethod
    def _check_patterns(cls, entries: list[str]) -> list[str]:
        for number, entry in enumerate(entries, 1):
            try:
                re.compile(entry)
            except re.error as error:  # (its message does not repeat the pattern)
                problem = f"entry {number} is not a regular expression: {error.msg}"
                raise ValueError(problem) from None
        return entries

    @cached_property
    def metric_allow_list(self) -> AllowList:
        return AllowList(self.allowed_metrics, variable="ALLOWED_METRICS")

    @cached_property
    def model_label_allow_list(self) -> AllowList:
        return AllowList(self.allowed_model_labels, variable="ALLOWED_MODEL_LABELS")

    @field_validator("label_selector")
    @classmethod
    def _check_selector(cls, value: str) -> str:
        parse_label_selector(value)
        return value.strip()

    @cached_property
    def fixed_matchers(self) -> tuple[str, ...]:
        """``LABEL_SELECTOR`` as matchers, parsed once rather than on every request."""
        return parse_label_selector(self.label_selector)

    @model_validator(mode="after")
    def _check_timeouts(self) -> Settings:
        if self.upstream_connect_timeout_seconds > self.upstream_timeout_seconds:
            raise ValueError("UPSTREAM_CONNECT_TIMEOUT_SECONDS exceeds UPSTREAM_TIMEOUT_SECONDS")
        if self.upstream_max_concurrency >= self.upstream_max_connections:
            # Fan-out must queue at the semaphore, not end in httpx's PoolTimeout.
            raise ValueError("UPSTREAM_MAX_CONCURRENCY must be below UPSTREAM_MAX_CONNECTIONS")
        if self.prometheus_password is not None and self.prometheus_username is None:
            raise ValueError("PROMETHEUS_PASSWORD is set without PROMETHEUS_USERNAME")
        if self.prometheus_bearer_token is not None and self.prometheus_username is not None:
            raise ValueError("set PROMETHEUS_BEARER_TOKEN or PROMETHEUS_USERNAME, not both")
        return self

    @model_validator(mode="after")
    def _check_credentials(self) -> Settings:
        credentials.check_conflicts(
            self._upstream_urls(),
            token=self.prometheus_bearer_token is not None,
            username=self.prometheus_username is not None,
        )
        return self

    @field_validator("prometheus_bearer_token")
    @classmethod
    def _check_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            credentials.check_token(value.get_secret_value())
        return value

    @field_validator("prometheus_password", "prometheus_username")
    @classmethod
    def _check_user(cls, value: SecretStr | str | None) -> SecretStr | str | None:
        if value is not None:
            credentials.check_text(
                value.get_secret_value() if isinstance(value, SecretStr) else value
            )
        return value

    @field_validator("prometheus_headers")
    @classmethod
    def _check_header_values(cls, headers: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name, value in headers.items():
            credentials.check_header(name, value.get_secret_value())
        return headers

    def _upstream_urls(self) -> list[str]:
        return [self.prometheus_url, *self.prometheus_allowed_urls, self.prometheus_ready_url or ""]

    @cached_property
    def redactor(self) -> Redactor:
        """Takes this configuration's upstream secrets out of the engines' error text."""
        token = self.prometheus_bearer_token
        return Redactor(
            credentials.known_secrets(
                self._upstream_urls(),
                token=token.get_secret_value() if token else None,
                basic=self.upstream_auth(),
                headers={k: v.get_secret_value() for k, v in self.prometheus_headers.items()},
            )
        )

    @model_validator(mode="after")
    def _check_status_thresholds(self) -> Settings:
        if self.status_danger_ms <= self.status_warning_ms:
            raise ValueError("STATUS_DANGER_MS must be above STATUS_WARNING_MS")
        return self

    def upstream_headers(self) -> dict[str, str]:
        """Headers every upstream request carries (secrets revealed only here)."""
        headers = {
            name: value.get_secret_value() for name, value in self.prometheus_headers.items()
        }
        if self.prometheus_bearer_token is not None:
            headers["Authorization"] = f"Bearer {self.prometheus_bearer_token.get_secret_value()}"
        return headers

    def upstream_auth(self) -> tuple[str, str] | None:
        if self.prometheus_username is None:
            return None
        password = self.prometheus_password.get_secret_value() if self.prometheus_password else ""
        return self.prometheus_username, password

    @property
    def allowed_prometheus_urls(self) -> frozenset[str]:
        """The Prometheus servers a request may select with ``prometheus_url``."""
        return frozenset([self.prometheus_url, *self.prometheus_allowed_urls])
