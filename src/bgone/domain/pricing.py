"""What a removal costs: credits for its result, weight against the rate limit.

remove.bg's price list, which bgone follows so that its clients' budgets carry over: a
preview costs a quarter of a credit, every larger result (medium, hd, full, auto) one credit;
a `best` result costs the operator's multiple of that (`BGONE_BEST_QUALITY_CREDITS`, 1 by
default, until plans carry prices per quality); against the per-minute limit an image counts
as its megapixels, at least one. Only production keys spend credits: staging keys are for
trying things out, so they always get a preview, free. No HTTP here: every front end (the API
today, batch workers later) asks these rules the same questions.
"""

from __future__ import annotations

from bgone.inference.options import Quality, Size
from bgone.security.keys import Environment

FULL_COST_MILLI = 1000
PREVIEW_COST_MILLI = 250


def result_cost_milli(
    size: Size, quality: Quality = Quality.FAST, *, best_quality_credits: float = 1.0
) -> int:
    """Thousandths of a credit for a result of `size`; `auto` is priced as `full`.

    `best_quality_credits`: what a `best` result costs as a multiple of the `fast` one.
    """
    fast = PREVIEW_COST_MILLI if size is Size.PREVIEW else FULL_COST_MILLI
    return round(fast * best_quality_credits) if quality is Quality.BEST else fast


def size_for_key(requested: Size, spends_credits: bool) -> Size:
    """Staging keys get previews only, whatever they ask for."""
    return requested if spends_credits else Size.PREVIEW


def fallback_when_short(requested: Size) -> Size | None:
    """The cheaper size to try when the credits left do not pay for `requested`.

    Only `auto` falls back (to a preview); any other size is refused with 402.
    """
    return Size.PREVIEW if requested is Size.AUTO else None


def rate_weight(megapixels: float) -> float:
    """remove.bg's weighting: an image counts as max(1, its megapixels)."""
    return max(1.0, megapixels)


def rate_bucket(account_id: int, environment: Environment) -> str:
    """One bucket per account and environment: all of an account's keys share it."""
    return f"account:{account_id}:{environment.value}"
