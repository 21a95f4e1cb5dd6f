"""The API playground: try the three removal endpoints from the browser with your own key.

The page is rendered here; `static/playground.js` sends the request straight from the browser
to the API on the same origin (`fetch` with the key in `x-api-key`), shows the result, the
headers that matter and the time taken, and shows the same request in curl, Python, Node.js and
PHP (`bgone.web.snippets`, which the docs use too), asked for at `GET /playground/snippets`
with the form's state. The key never reaches these handlers: it stays in the page (or, if the
user asks, in the tab's sessionStorage), and the snippets read it from `BGONE_API_KEY`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from bgone.api.contracts import BACKGROUND_ERASE, BYBYBG, REMOVE_BG, RESULT_HEADERS, Contract
from bgone.inference.option_table import OPTIONS_BY_NAME
from bgone.server.deps import ServicesDep, ViewerDep
from bgone.web.snippets import LANGUAGES, SnippetRequest, snippets
from bgone.web.templating import render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Endpoint:
    path: str
    label: str
    file_field: str
    default_size: str
    default_format: str
    url_field: str | None = None  # where the contract takes an image's URL, if it does

    @classmethod
    def of(cls, path: str, label: str, contract: Contract) -> Endpoint:
        """The contract's own multipart file field and defaults, so the page cannot drift."""
        return cls(
            path=path,
            label=label,
            file_field=contract.file_fields[0],
            default_size=contract.defaults.size.value,
            default_format=contract.defaults.format.value,
            url_field=contract.url_fields[0] if contract.url_fields else None,
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
        languages=SNIPPET_TABS,
    )


# The fields the playground's form can send; anything else is refused, not echoed.
PLAYGROUND_FIELDS = frozenset(
    {"size", "format", "channels", "quality", "crop", "crop_margin", "bg_color"}
)
EXTENSIONS = frozenset({"png", "webp", "jpg", "zip", "json", "bin"})


def _refuse(detail: str) -> HTTPException:
    return HTTPException(status_code=422, detail=detail)


def playground_request(
    base_url: str,
    endpoint_path: str,
    image: str,
    options: list[str],
    extension: str,
    sample: str | None,
) -> SnippetRequest:
    """The form's state as a `SnippetRequest`, refused (422) where it could not be the form's."""
    endpoint = next((e for e in ENDPOINTS if e.path == endpoint_path), None)
    if endpoint is None:
        raise _refuse("unknown endpoint")
    if sample is not None and sample not in {s.name for s in SAMPLES}:
        raise _refuse("unknown sample")
    if extension not in EXTENSIONS:
        raise _refuse("unknown extension")
    name = (sample or image).replace("\\", "/").rsplit("/", 1)[-1]
    if not name or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise _refuse("bad file name")
    fields = []
    for option in options:
        key, equals, value = option.partition("=")
        if not equals or key not in PLAYGROUND_FIELDS:
            raise _refuse("unknown option")
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise _refuse("bad option value")
        fields.append((key, value))
    output = f"result.{extension}"
    return SnippetRequest(
        base_url=base_url,
        path=endpoint.path,
        file_field=endpoint.file_field,
        image=name,
        fields=tuple(fields),
        output=f"bgone-{output}" if output == name else output,  # never over the image sent
        sample=sample,
        default_format=endpoint.default_format,
        label=endpoint.label,
    )


@router.get("/playground/snippets")
async def playground_snippets(
    request: Request,
    endpoint: Annotated[str, Query(max_length=40)],
    image: Annotated[str, Query(max_length=255)] = "image",
    option: Annotated[list[str] | None, Query()] = None,
    ext: Annotated[str, Query(max_length=8)] = "png",
    sample: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The playground's current request in every language: {language: text}."""
    if len(option or []) > len(PLAYGROUND_FIELDS) or any(len(o) > 300 for o in option or []):
        raise _refuse("too many or too long options")
    built = playground_request(
        str(request.base_url).rstrip("/"), endpoint, image, option or [], ext, sample
    )
    shown = {snippet.language: snippet.text for snippet in snippets(built).snippets}
    return JSONResponse(shown, headers={"Cache-Control": "no-store"})


SNIPPET_TABS = [(language, label) for language, label, _, _ in LANGUAGES]
