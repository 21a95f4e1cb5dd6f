"""A backend proxy for bgone: the browser sends a photo here, this server adds the API key.

The key lives only in this process's environment. The page never sees it, so it cannot leak
through the page source, the browser's dev tools or a browser extension.

    BGONE_API_KEY=bgone_live_... python examples/web-proxy/server.py --port 8080
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response

API_KEY = os.environ.get("BGONE_API_KEY", "")
BGONE_URL = os.environ.get("BGONE_URL", "http://127.0.0.1:8000").rstrip("/")
PAGE = Path(__file__).with_name("index.html")
# bgone headers worth handing on: what the result is, and when to retry after a 429/503.
PASSED_HEADERS = ("x-request-id", "x-credits-charged", "x-width", "x-height", "retry-after")

app = FastAPI(title="bgone web-proxy example")


@app.get("/")
def index() -> FileResponse:
    return FileResponse(PAGE, media_type="text/html")


@app.post("/cutout")
async def cutout(image: UploadFile) -> Response:
    # A real application checks its own user's session here (and applies its own per-user
    # limits): otherwise anyone who finds this endpoint spends your credits.
    data = await image.read()
    try:
        async with httpx.AsyncClient(timeout=120) as client:
            answer = await client.post(
                f"{BGONE_URL}/v2",
                headers={"x-api-key": API_KEY},  # added here, on the server, never in the page
                files={"image_file": (image.filename or "image", data, image.content_type)},
            )
    except httpx.HTTPError as error:
        # In /v2's own error shape, so that the page reads one shape whatever failed.
        problem = {"code": "bgone_unreachable", "message": str(error), "status": 502}
        return JSONResponse({"error": problem}, status_code=502)
    # Success (a PNG) and failure (/v2's JSON error body) pass through unchanged.
    headers = {name: answer.headers[name] for name in PASSED_HEADERS if name in answer.headers}
    return Response(
        answer.content,
        status_code=answer.status_code,
        media_type=answer.headers.get("content-type"),
        headers=headers,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="bgone web-proxy example")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    arguments = parser.parse_args()
    if not API_KEY:
        sys.exit("Set BGONE_API_KEY to a key from your bgone account page.")
    uvicorn.run(app, host=arguments.host, port=arguments.port)


if __name__ == "__main__":
    main()
