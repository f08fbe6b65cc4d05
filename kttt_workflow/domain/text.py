"""Vietnamese text as users write it: one normal form, one lookup key.

>>> nfc("Tha\u0300nh phô\u0301") == "Thành phố"
True
>>> name_key("  Sở  KH&ĐT ") == name_key("sở kh & đt")
True
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def nfc(text: str) -> str:
    """User-facing text in NFC (Vietnamese diacritics as single code points)."""
    return unicodedata.normalize("NFC", text)


def name_key(text: str) -> str:
    """Normalise a Vietnamese name for lookup: NFC, case-folded, single spaces, '&' spaced."""
    t = nfc(text).casefold().replace("&", " & ")
    return _SPACES.sub(" ", t).strip()


def fold(text: str) -> str:
    """``name_key`` without diacritics ("Kế hoạch" → "ke hoach", "Đề án" → "de an"), to match
    words however they were typed."""
    t = unicodedata.normalize("NFD", name_key(text).replace("đ", "d"))
    return "".join(ch for ch in t if not unicodedata.combining(ch))
