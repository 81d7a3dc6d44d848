"""`/docs` and `/redoc` render in Chromium from the service's own assets, and the OpenAPI
document they show describes every endpoint fully."""

from __future__ import annotations

import httpx
import pytest
from pydantic import BaseModel

from app.schemas import distribution, health, metrics, models, slo
from app.schemas.examples import RESPONSE_EXAMPLES
from app.schemas.status import StatusConfig
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

BOUNDS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "enum", "const")
# The parameters an endpoint cannot answer without (so they have no default).
REQUIRED = {"GET /api/metrics/slo/ ?threshold_ms"}


def operations(openapi: dict) -> list[tuple[str, str, dict]]:
    return [
        (method.upper(), path, operation)
        for path, methods in openapi["paths"].items()
        for method, operation in methods.items()
    ]


@pytest.fixture(scope="module")
def openapi(service) -> dict:
    return httpx.get(f"{service.url}/openapi.json", timeout=10).json()


def test_every_operation_has_a_summary_and_described_bounded_parameters(openapi):
    for method, path, operation in operations(openapi):
        assert operation.get("summary"), f"{method} {path} has no summary"
        for parameter in operation.get("parameters", []):
            name = f"{method} {path} ?{parameter['name']}"
            assert parameter.get("description"), f"{name} has no description"
            schema = parameter["schema"]
            assert any(bound in str(schema) for bound in BOUNDS), f"{name} has no bound"
            # A parameter without a default is optional-and-absent (its text says what then),
            # or one of the few an endpoint cannot answer without.
            assert "default" in schema or not parameter.get("required") or name in REQUIRED, name
            assert parameter.get("required", False) == (name in REQUIRED), name


def test_every_json_response_has_an_example(openapi):
    missing = [
        f"{method} {path} {status}"
        for method, path, operation in operations(openapi)
        for status, response in operation["responses"].items()
        if "application/json" in response.get("content", {})
        and "example" not in response["content"]["application/json"]
    ]
    assert missing == []


def test_error_examples_are_declared_on_prometheus_backed_endpoints(openapi):
    for method, path, operation in operations(openapi):
        if not path.startswith("/api/metrics/") or path == "/api/metrics/stream/":
            continue  # (the stream reports Prometheus's failures as events)
        for status in ("400", "502", "503", "504"):
            example = operation["responses"][status]["content"]["application/json"]["example"]
            assert example["status"] == "error", f"{method} {path} {status}"


@pytest.mark.parametrize("path", ["/", "/docs", "/redoc"])
def test_pages_tell_the_browser_to_load_only_from_the_service(service, path):
    policy = httpx.get(f"{service.url}{path}", timeout=10).headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'"
    for name in ("script-src", "style-src", "img-src", "connect-src"):
        sources = directives[name].split()
        assert "'self'" in sources, name
        assert not [s for s in sources if s.startswith(("http", "*"))], name


def schema_models() -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {"StatusConfig": StatusConfig}
    for module in (metrics, health, slo, distribution, models):
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, BaseModel):
                found[name] = value
    return found


@pytest.mark.parametrize(("status", "schema"), sorted(RESPONSE_EXAMPLES))
def test_examples_are_valid_bodies(status, schema):
    model = schema_models()[schema]
    example = RESPONSE_EXAMPLES[(status, schema)]
    # Fields an answer leaves out unless asked (`previous` and `change_pct` with `compare=`)
    # are left out of the examples too.
    assert model.model_validate(example).model_dump(mode="json", exclude_unset=True) == example


async def test_swagger_ui_lists_every_endpoint(desktop, service, openapi):
    page = desktop.page
    await page.goto(f"{service.url}/docs")
    await page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    shown = await page.eval_on_selector_all(
        ".opblock-summary-path", "spans => spans.map(s => s.dataset.path)"
    )
    assert sorted(shown) == sorted(path for _, path, _ in operations(openapi))
    # The vendored stylesheet is applied, not just fetched.
    colour = await page.eval_on_selector(
        ".opblock.opblock-get", "el => getComputedStyle(el).borderColor"
    )
    assert colour == "rgb(97, 175, 254)"
    # Open one operation: its success and error examples render.
    await page.click(".opblock-summary-path[data-path='/api/metrics/']")
    await page.wait_for_selector(".responses-table", timeout=10_000)
    text = await page.text_content(".opblock.is-open")
    assert "p95_latency_ms" in text
    assert "Prometheus is unreachable" in text
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "swagger-ui.png"))


async def test_redoc_renders_with_local_fonts(desktop, service, openapi):
    page = desktop.page
    await page.goto(f"{service.url}/redoc")
    await page.wait_for_selector("h1", timeout=30_000)
    assert (await page.text_content("h1")).startswith(openapi["info"]["title"])
    menu = await page.text_content("[role=navigation], .menu-content")
    for method, path, operation in operations(openapi):
        assert operation["summary"] in menu, f"{method} {path} missing from the ReDoc menu"
    families = await page.evaluate(
        """async () => {
            await document.fonts.ready;
            return [...document.fonts].filter(f => f.status === 'loaded').map(f => f.family);
        }"""
    )
    assert {"Montserrat", "Roboto"} <= {family.strip('"') for family in families}
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "redoc.png"))
