"""Markup for the docs pages: descriptions written with Markdown's backticks, shown as HTML.

The OpenAPI descriptions and the error tables quote names in backticks; the guides and the API
reference both show them as code, escaped the same way, so the one helper lives on its own.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape


def ticks(text: str) -> Markup:
    """Escape `text`, then show `quoted` parts as code: descriptions use Markdown's backticks."""
    escaped = str(escape(text))
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped))  # safe: escaped above
