"""The API playground: try the three removal endpoints from the browser with your own key.

The page is rendered here; `static/playground.js` sends the request straight from the browser
to the API on the same origin (`fetch` with the key in `x-api-key`), shows the result, the
headers that matter and the time taken, and builds the `curl` command that reproduces it. The
key never reaches this handler: it stays in the page (or, if the user asks, in the tab's
sessionStorage).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bgone.api.contracts import BACKGROUND_ERASE, BYBYBG, REMOVE_BG, RESULT_HEADERS, Contract
from bgone.inference.option_table import OPTIONS_BY_NAME
from bgone.server.deps import ServicesDep, ViewerDep
from bgone.web.templating import render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Endpoint:
    path: str
    label: str
    file_field: str
    default_size: str
    default_format: str

    @classmethod
    def of(cls, path: str, label: str, contract: Contract) -> Endpoint:
        """The contract's own multipart file field and defaults, so the page cannot drift."""
        return cls(
            path=path,
            label=label,
            file_field=contract.file_fields[0],
            default_size=contract.defaults.size.value,
            default_format=contract.defaults.format.value,
        )

    def as_config(self) -> dict[str, str]:
        return {
            "path": self.path,
            "label": self.label,
            "field": self.file_field,
            "size": self.default_size,
            "format": self.default_format,
        }


ENDPOINTS = (
    Endpoint.of("/v2", "BackgroundErase", BACKGROUND_ERASE),
    Endpoint.of("/v1/remove-bg", "ByByBG", BYBYBG),
    Endpoint.of("/v1.0/removebg", "remove.bg", REMOVE_BG),
)


@dataclass(frozen=True)
class Sample:
    name: str  # file name under static/samples
    title: str
    alt: str


# Drawn by scripts/make_samples.py: our own pictures, shipped with the package.
SAMPLES = (
    Sample("mug.jpg", "Product", "A red mug on a light studio background"),
    Sample("robot.jpg", "Toy", "A toy robot standing on wooden planks"),
    Sample("duck.jpg", "Busy background", "A yellow rubber duck in front of colourful bokeh"),
)


def _config(default_quality: str) -> dict[str, object]:
    return {
        "endpoints": [endpoint.as_config() for endpoint in ENDPOINTS],
        "samples": [sample.name for sample in SAMPLES],
        # What the server applies when no quality is sent: the curl command leaves it out then.
        "quality": default_quality,
        "result_headers": [name.lower() for name in RESULT_HEADERS],
    }


@router.get("/playground")
async def playground(request: Request, viewer: ViewerDep, services: ServicesDep) -> Response:
    return render(
        request,
        "playground.html",
        viewer,
        endpoints=ENDPOINTS,
        samples=SAMPLES,
        # The option table's values (not its aliases), as the API documents them.
        sizes=list(OPTIONS_BY_NAME["size"].choices),
        formats=list(OPTIONS_BY_NAME["format"].choices),
        channels=list(OPTIONS_BY_NAME["channels"].choices),
        qualities=list(OPTIONS_BY_NAME["quality"].choices),
        api_access=bool(viewer and viewer.account.plan.api_access),
        config=_config(services.settings.default_quality),
    )
