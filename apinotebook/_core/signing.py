"""HMAC-SHA256 signatures for webhooks.

One scheme, shared by the sandbox (which signs the events it sends) and the
integration webhook receiver (which verifies them). It follows the layout
Stripe and Slack use: the signed payload is ``"{timestamp}.{body}"`` and the
header carries both the timestamp and the signature, so a captured request
cannot be replayed later than ``tolerance`` seconds::

    X-Signature: t=1767225600,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd
"""

from __future__ import annotations

import hashlib
import hmac
import time

__all__ = ["SIGNATURE_HEADER", "SignatureError", "sign", "signature_header", "verify"]

SIGNATURE_HEADER = "X-Signature"


class SignatureError(ValueError):
    """The signature header is missing, malformed, stale or does not match."""


def sign(secret: str | bytes, body: bytes, timestamp: int) -> str:
    """Return the hex HMAC-SHA256 of ``"{timestamp}.{body}"`` under ``secret``."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(secret: str | bytes, body: bytes, timestamp: int | None = None) -> str:
    """Build the value of the ``X-Signature`` header for ``body``."""
    ts = int(time.time()) if timestamp is None else timestamp
    return f"t={ts},v1={sign(secret, body, ts)}"


def verify(
    secret: str | bytes,
    body: bytes,
    header: str | None,
    *,
    tolerance: float = 300.0,
    now: float | None = None,
) -> int:
    """Check ``header`` against ``body``; return the signed timestamp.

    Raises:
        SignatureError: the header is missing or malformed, the timestamp is
            further than ``tolerance`` seconds from now, or no ``v1`` signature
            matches (compared in constant time).
    """
    if not header:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            raise SignatureError(f"malformed {SIGNATURE_HEADER} header: expected t=...,v1=...")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        raise SignatureError(f"{SIGNATURE_HEADER} header has no valid t= timestamp") from None
    current = time.time() if now is None else now
    if tolerance and abs(current - timestamp) > tolerance:
        raise SignatureError(
            f"signature timestamp is {abs(current - timestamp):.0f}s away from now "
            f"(tolerance {tolerance:.0f}s): a replay, or a clock out of sync"
        )
    expected = sign(secret, body, timestamp)
    if not any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", [])):
        raise SignatureError("signature does not match the body (wrong secret or altered body)")
    return timestamp
