"""The client's address as bgone stores it: an IP address, or None.

Uvicorn takes the client's address from X-Forwarded-For when the peer is a trusted proxy
(loopback by default) and passes on whatever text it found there. That text goes into
VARCHAR(45) columns (a key's last use, the audit log, dashboard sessions): one that is no
address, or too long, once failed a whole batch of other accounts' usage rows on
PostgreSQL. Checked once here, where the address enters, nothing downstream sees it.
"""

from __future__ import annotations

import ipaddress

from bgone.db.tables import IP_LENGTH


def storable_address(text: str | None) -> str | None:
    """`text` in its canonical form if it is an IP address that fits the columns, else None."""
    if not text:
        return None
    try:
        address = str(ipaddress.ip_address(text))
    except ValueError:
        return None
    return address if len(address) <= IP_LENGTH else None
