"""The SDK as a package of its own: it imports nothing of the server; the old name still works."""

from __future__ import annotations

import inspect
import subprocess
import sys

import bgone.client
import bgone_client


def test_importing_the_sdk_loads_nothing_of_the_server() -> None:
    check = (
        "import bgone_client, sys;"
        " loaded = [m for m in sys.modules if m == 'bgone' or m.startswith('bgone.')];"
        " assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", check], check=True, timeout=60)


def test_bgone_client_re_exports_the_same_objects() -> None:
    assert set(bgone.client.__all__) == set(bgone_client.__all__)
    for name in bgone.client.__all__:
        assert getattr(bgone.client, name) is getattr(bgone_client, name), name


def test_every_name_the_old_module_exported_is_still_there() -> None:
    """The public names of bgone/client.py before the SDK moved out, and the README's."""
    old_names = (
        "Source SizeName FormatName REMOVE_PATH ACCOUNT_PATH BACKOFF_BASE RETRY_STATUSES"
        " BgoneClientError MissingAPIKeyError BgoneConnectionError BgoneAPIError"
        " InvalidRequestError AuthenticationError InsufficientCreditsError PermissionDeniedError"
        " NotFoundError ConflictError PayloadTooLargeError UnsupportedMediaTypeError"
        " RateLimitError ServiceUnavailableError ERRORS_BY_STATUS ERRORS_BY_CODE RateLimit"
        " RemovalResult AccountInfo Client AsyncClient"
    )
    missing = [name for name in old_names.split() if not hasattr(bgone.client, name)]
    assert not missing


def test_sync_and_async_remove_take_the_same_keywords() -> None:
    sync = inspect.signature(bgone_client.Client.remove).parameters
    asynchronous = inspect.signature(bgone_client.AsyncClient.remove).parameters
    assert [(p.name, p.kind, p.annotation, p.default) for p in sync.values()] == [
        (p.name, p.kind, p.annotation, p.default) for p in asynchronous.values()
    ]


def test_user_agent_carries_the_sdk_version() -> None:
    with bgone_client.Client("bgone_live_unit") as client:
        assert client._http.headers["user-agent"] == f"bgone-python/{bgone_client.__version__}"
