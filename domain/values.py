"""Parsing and normalising the values people type into company lists."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

#: Every character that Python's ``str.isspace`` counts as whitespace, written out so that
#: SQL can trim the same set (SQL's ``trim`` alone removes the space and nothing else).
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def is_blank(text: str | None) -> bool:
    """No text, or whitespace only (a tab or a no-break space is as empty as a space)."""
    return not (text or "").strip(WHITESPACE)


_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']+")
_SUFFIXES = {
    "k": 1_000,
    "thousand": 1_000,
    "m": 1_000_000,
    "mm": 1_000_000,
    "mn": 1_000_000,
    "mio": 1_000_000,
    "million": 1_000_000,
    "millions": 1_000_000,
    "b": 1_000_000_000,
    "bn": 1_000_000_000,
    "billion": 1_000_000_000,
    "billions": 1_000_000_000,
}
_NUMBER = re.compile(r"^(?P<num>[0-9][0-9.,]*)(?P<suffix>[a-z]*)$")
_BAND = re.compile(r"^(?P<low>[^-–—]+?)\s*(?:-|–|—|to)\s*(?P<high>.+)$")
_CURRENCY = "$€£¥₹"


def parse_amount(text: str) -> int:
    """Parse an amount as people write it: ``1,200``, ``1.200``, ``$5M``, ``5 000``, ``1,5 Mio``.

    Returns whole units. Raises ValueError with a readable message otherwise.
    """
    raw = text.strip()
    if raw.isdigit():
        return int(raw)
    cleaned = _SPACES.sub("", raw).lower()
    for symbol in _CURRENCY:
        cleaned = cleaned.replace(symbol, "")
    for code in ("usd", "eur", "gbp", "chf"):
        cleaned = cleaned.removeprefix(code).removesuffix(code)
    match = _NUMBER.match(cleaned)
    if not match or match["suffix"] not in ("", *_SUFFIXES):
        raise ValueError(f"'{raw}' is not a number")
    multiplier = _SUFFIXES.get(match["suffix"], 1)
    try:
        value = Decimal(_plain_decimal(match["num"], has_suffix=multiplier > 1)) * multiplier
    except InvalidOperation:
        raise ValueError(f"'{raw}' is not a number") from None
    return int(value.to_integral_value())


def _plain_decimal(digits: str, *, has_suffix: bool) -> str:
    """Turn ``1.234,5`` / ``1,234.5`` / ``1,200`` into ``1234.5`` / ``1234.5`` / ``1200``."""
    commas, dots = digits.count(","), digits.count(".")
    if commas and dots:
        decimal_sep = "," if digits.rfind(",") > digits.rfind(".") else "."
        thousands = "." if decimal_sep == "," else ","
        return digits.replace(thousands, "").replace(decimal_sep, ".")
    for sep, count in ((",", commas), (".", dots)):
        if not count:
            continue
        head, _, tail = digits.rpartition(sep)
        # "1,200" and "1.200" group thousands; "1,5M" and "2.75" are decimals.
        if count > 1 or (len(tail) == 3 and not has_suffix):
            if not all(len(group) == 3 for group in digits.split(sep)[1:]):
                raise InvalidOperation
            return digits.replace(sep, "")
        return head.replace(sep, "") + "." + tail
    return digits


def parse_employees(text: str) -> int:
    """Parse a head count or a band: ``250``, ``1,200``, ``51-200`` (lower bound), ``10,001+``."""
    raw = text.strip()
    if raw.isdigit():
        return int(raw)
    cleaned = raw.rstrip("+").strip()
    band = _BAND.match(cleaned)
    if band:
        low, high = parse_amount(band["low"]), parse_amount(band["high"])
        if high < low:
            raise ValueError(f"'{raw}' is not a valid employee band")
        return low
    try:
        return parse_amount(cleaned)
    except ValueError:
        raise ValueError(f"'{raw}' is not a number of employees") from None


def parse_year(text: str) -> int:
    raw = text.strip()
    try:
        year = int(float(raw.replace(",", "")))
    except ValueError:
        raise ValueError(f"'{raw}' is not a year") from None
    if not 1600 <= year <= 2200:
        raise ValueError(f"'{raw}' is not a plausible year")
    return year


_TRUE = {"1", "y", "yes", "true", "x", "ja", "oui", "si", "sí", "wahr", "✓", "✔"}
_FALSE = {"", "0", "n", "no", "false", "nein", "non", "falsch", "-"}


def parse_flag(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"'{text.strip()}' is not yes or no")


_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


@lru_cache(maxsize=8192)
def normalize_domain(text: str | None) -> str | None:
    """``HTTPS://www.Example.com/about`` → ``example.com``; None when there is no domain.

    Remembers recent answers: an import checks a website and then matches on its domain."""
    if not text:
        return None
    value = text.strip().lower()
    value = _SCHEME.sub("", value)
    value = value.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    value = value.rsplit("@", 1)[-1].split(":", 1)[0].strip(".")
    value = value.removeprefix("www.")
    if not value.isascii():
        try:
            value = value.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return value if _DOMAIN.match(value) else None


_LEGAL_FORMS = {
    "inc", "incorporated", "llc", "ltd", "limited", "corp", "corporation", "co", "company",
    "gmbh", "ag", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "plc", "oy", "ab", "as",
    "aps", "kg", "ohg", "pty", "pte", "kk", "sl", "lp", "llp", "the",
}  # fmt: skip
_WORD = re.compile(r"[^\W_]+")


def fold_text(text: str | None) -> str:
    """Words of a text with case, accents and punctuation folded away: what searches compare."""
    if not text:
        return ""
    folded = text.casefold()
    if not folded.isascii():
        folded = unicodedata.normalize("NFKD", folded)
        folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(_WORD.findall(folded.replace("&", " and ")))


def normalize_name(text: str | None) -> str:
    """A company name reduced for matching: folded, and legal forms such as GmbH dropped."""
    return " ".join(w for w in fold_text(text).split() if w not in _LEGAL_FORMS)


@lru_cache(maxsize=4096)
def normalize_country(text: str | None) -> str:
    """Countries are few and repeat on every row: their normal form is remembered."""
    return normalize_name(text)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_email(text: str) -> bool:
    return bool(_EMAIL.match(text.strip()))


def parse_tags(text: str) -> str:
    """Tags as one canonical text: split on ``,`` ``;`` ``|``, trimmed, de-duplicated, in order."""
    seen: dict[str, None] = {}
    for part in re.split(r"[,;|]", text):
        tag = part.strip()
        if tag and tag.casefold() not in {t.casefold() for t in seen}:
            seen[tag] = None
    return ", ".join(seen)


#: Characters that no file Accord writes can hold (XML, so XLSX and PDF, refuses them):
#: control characters other than tab and line break, and code points that are no text.
_NOT_TEXT = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
#: Line breaks as other systems write them; XML turns a lone CR into a line break anyway.
_LINE_BREAK = re.compile("\r\n?|[\x0b\x0c]")


def clean_text(text: str) -> str:
    """Text as every file can hold it: control characters (NUL, bell, escape …) dropped,
    tabs kept, line breaks as ``\\n``. Every door that stores what people type (import,
    forms, command line) calls this, and every writer does on what is already stored."""
    if text.isprintable():
        return text
    return _NOT_TEXT.sub("", _LINE_BREAK.sub("\n", text))


#: A cell starting with one of these would run as a formula in a spreadsheet.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def protect_cell(text: str) -> str:
    """Make text stay text in a spreadsheet that opens a CSV: ``=1+1`` → ``'=1+1``,
    ``'=1`` → ``''=1``; :func:`unprotect_cell` takes exactly that apostrophe away."""
    return "'" + text if text.lstrip("'").startswith(_FORMULA_STARTS) else text


def unprotect_cell(text: str) -> str:
    """Undo :func:`protect_cell`, so that an exported CSV file re-imports unchanged."""
    if text.startswith("'") and text.lstrip("'").startswith(_FORMULA_STARTS):
        return text[1:]
    return text


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``1 account``, ``2,000 accounts``, ``1 criterion``, ``2 criteria``: a count with its
    noun, singular for one (``plural`` where adding an s is not it)."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {plural or noun + 's'}"


def in_words(items: Sequence[str], conjunction: str = "and") -> str:
    """``A``, ``A and B``, ``A, B and C``: a short list as a sentence says it."""
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def shown_time(value: datetime, layout: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time as this computer's clock shows it: times are stored in UTC (SQLite
    hands them back without a zone, PostgreSQL with one)."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone().strftime(layout)
