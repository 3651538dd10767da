"""Email normalisation: one canonical spelling per address, so an account cannot exist twice.

The address is stripped, NFKC-normalised and lower-cased (seed 004 lower-cases emails); an
internationalised domain is stored in its ASCII (IDNA) form. The syntax accepted is the common
subset of RFC 5321 (dot-atom local part, DNS host name), with its length limits.
"""

from __future__ import annotations

import re
import unicodedata

from cp_common.errors import BadRequest

MAX_EMAIL_LENGTH = 254
MAX_LOCAL_LENGTH = 64

_LOCAL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^([a-z]{2,63}|xn--[a-z0-9-]{1,59})$")

INVALID_EMAIL = "Invalid email address"


def normalize_email(raw: str) -> str:
    """The canonical form of ``raw``; :class:`BadRequest` if it is not a usable address."""
    text = unicodedata.normalize("NFKC", raw.strip()).lower()
    if len(text) > MAX_EMAIL_LENGTH or text.count("@") != 1:
        raise BadRequest(INVALID_EMAIL)
    local, domain = text.split("@")
    if not local or len(local) > MAX_LOCAL_LENGTH or not _LOCAL.match(local):
        raise BadRequest(INVALID_EMAIL)
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise BadRequest(INVALID_EMAIL) from None
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or not _TLD.match(labels[-1]):
        raise BadRequest(INVALID_EMAIL)
    normalized = f"{local}@{domain}"
    if len(normalized) > MAX_EMAIL_LENGTH:
        raise BadRequest(INVALID_EMAIL)
    return normalized


def normalize_email_or_none(raw: str) -> str | None:
    """Like :func:`normalize_email` but ``None`` for an invalid address (login: no error detail)."""
    try:
        return normalize_email(raw)
    except BadRequest:
        return None
