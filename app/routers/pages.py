"""Pages for people: the status page at `/`, its settings, and API docs that work offline.

Everything a page loads comes from the package (`app/static/`), so the status page,
Swagger UI (`/docs`) and ReDoc (`/redoc`) render on a machine with no internet access.
`/static` serves only assets (script, style, images, fonts); the pages themselves, the
licences and READMEs next to them are not served from there.

    install(app)  # in create_app, with FastAPI(docs_url=None, redoc_url=None)
"""

from __future__ import annotations

from functools import cache
from pathlib import Path, PurePosixPath

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

from app.deps import SettingsDep, StateDep
from app.profiles.loader import ProfileRegistry
from app.schemas.status import LatencyHistogram, StatusConfig

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
ASSET_SUFFIXES = frozenset(
    {".js", ".css", ".png", ".svg", ".ico", ".woff2", ".woff", ".ttf", ".map"}
)
VENDOR = "static/vendor"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"

# The status page has no inline script or style, so the browser itself can refuse
# anything that is not served by the service.
STATUS_PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)

# Swagger UI and ReDoc need inline script and style (and ReDoc a blob: worker); the
# rest stays on the service. This also keeps ReDoc's sidebar logo, an image on an
# outside host, from being fetched.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)

router = APIRouter()


def _prefix(request: Request) -> str:
    """The path the app is mounted under, so asset URLs work behind a proxy prefix."""
    root: str = request.scope.get("root_path", "")
    return root.rstrip("/")


PAGE_HEADERS = {"Content-Security-Policy": STATUS_PAGE_CSP, "Cache-Control": "no-cache"}


@router.get("/", include_in_schema=False)
async def status_page() -> FileResponse:
    """The status page: the model table, refreshed live (app/static/status.js)."""
    return FileResponse(STATIC_DIR / "status.html", media_type="text/html", headers=PAGE_HEADERS)


@router.get("/models", include_in_schema=False)
async def model_page() -> HTMLResponse:
    """A model's page (``?model=<name>``, so names with ``/`` work): the same page one
    level down, its relative URLs resolved against the root (``<base href="../">``)."""
    return HTMLResponse(model_page_html(), headers=PAGE_HEADERS)


@cache
def model_page_html() -> str:
    page = (STATIC_DIR / "status.html").read_text(encoding="utf-8")
    return page.replace("<head>", '<head>\n  <base href="../">', 1)


def latency_histograms(registry: ProfileRegistry) -> dict[str, LatencyHistogram]:
    """Each profile's preferred latency histogram, for the SLO and distribution endpoints."""
    found: dict[str, LatencyHistogram] = {}
    for name, profile in registry.known.items():
        top = profile.signals.get("latency")
        spec = next((one for one in (top.chain if top else []) if one.kind == "histogram"), None)
        if spec is not None:
            found[name] = LatencyHistogram(
                metric_name=spec.metric, model_label=profile.label_for(spec)
            )
    return found


@router.get(
    "/api/status/config/",
    tags=["status"],
    summary="Thresholds and refresh period of the status page",
)
async def status_config(settings: SettingsDep, state: StateDep) -> StatusConfig:
    """What the page at `/` uses: p95 below `warning_ms` is good, below `danger_ms` a
    warning, anything else danger; the model page's first SLO threshold and objective.

    `curl 'http://localhost:8000/api/status/config/'`
    """
    return StatusConfig(
        warning_ms=settings.status_warning_ms,
        danger_ms=settings.status_danger_ms,
        refresh_seconds=settings.status_refresh_seconds,
        slo_threshold_ms=settings.status_slo_threshold_ms,
        slo_objective=settings.status_slo_objective,
        latency_histograms=latency_histograms(state.profiles),
    )


@router.get("/docs", include_in_schema=False)
async def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI with its script, style and icon served by the service."""
    prefix = _prefix(request)
    page = get_swagger_ui_html(
        openapi_url=f"{prefix}{request.app.openapi_url}",
        title=f"{request.app.title} - Swagger UI",
        swagger_js_url=f"{prefix}/{VENDOR}/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url=f"{prefix}/{VENDOR}/swagger-ui/swagger-ui.css",
        swagger_favicon_url=f"{prefix}/{VENDOR}/swagger-ui/favicon-32x32.png",
        oauth2_redirect_url=f"{prefix}{OAUTH2_REDIRECT}",
        # The default validator badge is an image from an outside host.
        swagger_ui_parameters={"validatorUrl": None},
    )
    page.headers["Content-Security-Policy"] = DOCS_CSP
    return page


@router.get(OAUTH2_REDIRECT, include_in_schema=False)
async def swagger_ui_redirect() -> HTMLResponse:
    page = get_swagger_ui_oauth2_redirect_html()
    page.headers["Content-Security-Policy"] = DOCS_CSP  # its script is inline, as /docs's
    return page


@router.get("/redoc", include_in_schema=False)
async def redoc(request: Request) -> HTMLResponse:
    """ReDoc with its script and the fonts it asks for served by the service."""
    prefix = _prefix(request)
    page = get_redoc_html(
        openapi_url=f"{prefix}{request.app.openapi_url}",
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{prefix}/{VENDOR}/redoc/redoc.standalone.js",
        redoc_favicon_url=f"{prefix}/{VENDOR}/swagger-ui/favicon-32x32.png",
        with_google_fonts=False,
    )
    fonts = f'<link rel="stylesheet" href="{prefix}/{VENDOR}/fonts/fonts.css">\n</head>'
    html = bytes(page.body).decode().replace("</head>", fonts, 1)
    return HTMLResponse(html, headers={"Content-Security-Policy": DOCS_CSP})


class AssetFiles(StaticFiles):
    """``StaticFiles`` that answers 404 for anything but an asset type (``ASSET_SUFFIXES``).

    ``status.html`` is served at `/` with its Content-Security-Policy, never bare; READMEs
    and licence files stay in the package.
    """

    async def get_response(self, path: str, scope: Scope) -> Response:
        # ``path`` is already normalised by StaticFiles (``a.md/.`` arrives as ``a.md``).
        if PurePosixPath(path).suffix.lower() not in ASSET_SUFFIXES:
            raise HTTPException(status_code=404)
        return await super().get_response(path, scope)


def install(app: FastAPI) -> None:
    """Add the status page, the offline docs and `/static`; build the app with
    ``docs_url=None, redoc_url=None`` so FastAPI's CDN-backed pages are not added too."""
    app.include_router(router)
    app.mount("/static", AssetFiles(directory=STATIC_DIR), name="static")
