"""The Python SDK under its old name: `from bgone.client import Client` keeps working.

The SDK is its own distribution now, `bgone-client`, importable as `bgone_client` (only httpx
needed); this module re-exports it, so the classes are the same objects under both names.
"""

from bgone_client import *  # noqa: F403 - every public name, as the SDK lists them
from bgone_client import __all__ as __all__
