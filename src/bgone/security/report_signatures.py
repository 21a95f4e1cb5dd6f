"""A secret scanner's signature on a leaked-key report: ECDSA P-256 with SHA-256 over the raw
body, as GitHub's secret-scanning partner alerts are signed.

GitHub sends `Github-Public-Key-Identifier` (which of its keys signed) and
`Github-Public-Key-Signature` (the base64 DER signature), and publishes its public keys as a
JSON document, `{"public_keys": [{"key_identifier": ..., "key": "-----BEGIN PUBLIC KEY-----
...", "is_current": ...}]}`. The operator saves that document (or plain PEM public keys) to
a file; `ScannerKeys.parse` reads either. PEM keys carry no identifier: each is tried.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

PEM_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)
ANY_IDENTIFIER = ""  # the identifier of keys from plain PEM: tried whatever the header says


class InvalidScannerKeys(ValueError):
    """The file is neither the scanner's JSON document nor PEM P-256 public keys."""


@dataclass(frozen=True)
class ScannerKeys:
    by_identifier: Mapping[str, tuple[ec.EllipticCurvePublicKey, ...]]

    @classmethod
    def parse(cls, text: str) -> ScannerKeys:
        stripped = text.strip()
        pairs: list[tuple[str, str]]
        if stripped.startswith("{"):
            try:
                listed = json.loads(stripped)["public_keys"]
                pairs = [(str(item["key_identifier"]), str(item["key"])) for item in listed]
            except (ValueError, KeyError, TypeError) as error:
                raise InvalidScannerKeys(
                    'expected {"public_keys": [{"key_identifier": ..., "key": ...}]}'
                ) from error
        else:
            pairs = [(ANY_IDENTIFIER, block) for block in PEM_BLOCK.findall(stripped)]
        if not pairs:
            raise InvalidScannerKeys("no public key found")
        found: dict[str, tuple[ec.EllipticCurvePublicKey, ...]] = {}
        for identifier, pem in pairs:
            found[identifier] = (*found.get(identifier, ()), _p256(pem))
        return cls(found)

    def verify(self, identifier: str | None, signature: str | None, body: bytes) -> bool:
        """Whether one of the keys under `identifier` (or a PEM key) signed `body`."""
        if not signature:
            return False
        try:
            der = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            return False
        candidates = (
            *self.by_identifier.get(identifier or ANY_IDENTIFIER, ()),
            *(self.by_identifier.get(ANY_IDENTIFIER, ()) if identifier else ()),
        )
        for key in candidates:
            try:
                key.verify(der, body, ec.ECDSA(hashes.SHA256()))
            except InvalidSignature:
                continue
            return True
        return False


def _p256(pem: str) -> ec.EllipticCurvePublicKey:
    try:
        key = load_pem_public_key(pem.encode())
    except ValueError as error:
        raise InvalidScannerKeys(f"a key is not PEM: {error}") from error
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise InvalidScannerKeys("a key is not an ECDSA P-256 public key")
    return key
