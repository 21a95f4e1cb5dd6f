"""The served /openapi.json, byte for byte, against tests/golden/openapi.json.

The golden file was the document as served before the restructuring (issue 12); an intended
change is an edit of the golden file, listed in the change's commit and note.
"""

from __future__ import annotations

import difflib
import json

import pytest

from tests.support.environment import REPO
from tests.unit.inprocess import InProcess

GOLDEN = REPO / "tests" / "golden" / "openapi.json"
MAX_DIFF_LINES = 200


def readable_diff(golden: bytes, served: bytes) -> str:
    def lines(document: bytes) -> list[str]:
        return json.dumps(json.loads(document), indent=1, ensure_ascii=False).splitlines()

    diff = difflib.unified_diff(
        lines(golden), lines(served), "tests/golden/openapi.json", "served", n=2, lineterm=""
    )
    shown = list(diff)
    if not shown:
        return "the same JSON in other bytes (key order, spacing or escaping)"
    more = f"\n... {len(shown) - MAX_DIFF_LINES} more lines" if len(shown) > MAX_DIFF_LINES else ""
    return "\n".join(shown[:MAX_DIFF_LINES]) + more


def test_served_document_is_the_golden_one(app: InProcess) -> None:
    response = app.client.get("/openapi.json")
    assert response.status_code == 200
    served, golden = response.content, GOLDEN.read_bytes()
    if served == golden:
        return
    pytest.fail(
        "the served /openapi.json differs from tests/golden/openapi.json (an intended change "
        "is an edit of that file):\n" + readable_diff(golden, served)
    )
