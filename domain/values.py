"""Parsing and normalising the values people type into company lists."""

from __future__ import annotations

import gettext
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

import phonenumbers
import pycountry
from phonenumbers import phonenumberutil

from domain.errors import printable

#: Every character that Python's ``str.isspace`` counts as whitespace, written out so that
#: SQL can trim the same set (SQL's ``trim`` alone removes the space and nothing else).
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def is_blank(text: str | None) -> bool:
    """No text, or whitespace only (a tab or a no-break space is as empty as a space)."""
    return not (text or "").strip(WHITESPACE)


#: Characters that group thousands in every number format, and never stand for a decimal
#: separator: spaces (no-break and narrow no-break ones too, as French and Nordic
#: spreadsheets write them) and apostrophes (Swiss).
_GROUPING_MARKS = re.compile(r"[\s\u00a0\u202f\u2009'\u2019]+")
#: Digits grouped by a space or an apostrophe: ``1 234``, ``1'234``.
_GROUPED_DIGITS = re.compile(r"[0-9][\s\u00a0\u202f\u2009'\u2019]+[0-9]")
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
#: Scientific notation, as Salesforce and spreadsheets write big numbers: ``6.0E7``, and
#: with a decimal comma ``6,0E+07``.
_SCIENTIFIC = re.compile(r"^(?P<num>[0-9][0-9.,]*)e\+?(?P<exponent>[0-9]{1,2})$")
#: The largest amount stored (a 64-bit integer holds 9.2 * 10**18).
LARGEST_AMOUNT = 10**18
_BAND = re.compile(r"^(?P<low>[^-–—]+?)\s*(?:-|–|—|to)\s*(?P<high>.+)$")
_CURRENCY = "$€£¥₹"


@dataclass(frozen=True)
class NumberFormat:
    """How a file writes its numbers: which character is the decimal separator and which
    groups thousands. Spaces and apostrophes group thousands in every format (no file
    writes a decimal with them); a dot or a comma that the format does not use makes a cell
    that it cannot read."""

    #: How the format writes 1234.56: its name.
    example: str
    decimal: str
    grouping: str
    said: str


ENGLISH = NumberFormat("1,234.56", ".", ",", "a decimal point, thousands grouped by commas")
GERMAN = NumberFormat("1.234,56", ",", ".", "a decimal comma, thousands grouped by dots")
FRENCH = NumberFormat("1 234,56", ",", " ", "a decimal comma, thousands grouped by spaces")
SWISS = NumberFormat("1'234.56", ".", "'", "a decimal point, thousands grouped by apostrophes")
#: The number formats of the files Accord reads, by their names.
NUMBER_FORMATS = {f.example: f for f in (ENGLISH, GERMAN, FRENCH, SWISS)}


def _number_text(raw: str) -> str:
    """What is left of a number as written once the marks around it are taken away: its
    digits, dots, commas and suffix (``€ 1.234,5 Mio`` → ``1.234,5mio``)."""
    cleaned = _GROUPING_MARKS.sub("", raw).lower()
    for symbol in _CURRENCY:
        cleaned = cleaned.replace(symbol, "")
    for code in ("usd", "eur", "gbp", "chf"):
        cleaned = cleaned.removeprefix(code).removesuffix(code)
    return cleaned.removesuffix("+")  # "10001+": at least that many


def parse_amount(text: str, scale: int = 1, numbers: NumberFormat | None = None) -> int:
    """Parse an amount as people write it: ``1,200``, ``1.200``, ``$5M``, ``5 000``, ``1,5 Mio``,
    in the file's ``numbers`` format (given none, in the format the text itself shows:
    :func:`decide_numbers`); times ``scale`` for a file that gives its amounts in thousands
    or millions.

    Returns whole units. Raises ValueError with a readable message otherwise.
    """
    raw = text.strip()
    if raw.isdigit() and len(raw) < 19:
        return int(raw) * scale
    cleaned = _number_text(raw)
    read_in = numbers or decide_numbers([raw]).numbers
    try:
        if scientific := _SCIENTIFIC.match(cleaned):
            mantissa = _plain_decimal(scientific["num"], read_in)
            value = Decimal(f"{mantissa}e{scientific['exponent']}") * scale
        else:
            match = _NUMBER.match(cleaned)
            if not match or match["suffix"] not in ("", *_SUFFIXES):
                raise InvalidOperation
            multiplier = _SUFFIXES.get(match["suffix"], 1)
            value = Decimal(_plain_decimal(match["num"], read_in)) * multiplier * scale
    except InvalidOperation:
        why = _in_other_format(cleaned, numbers) if numbers else ""
        raise ValueError(f"'{raw}' is not a number{why}") from None
    if value > LARGEST_AMOUNT:
        raise ValueError(f"'{raw}' is larger than Accord stores")
    return int(value.to_integral_value())


def _plain_decimal(digits: str, numbers: NumberFormat) -> str:
    """Digits, dots and commas as ``numbers`` writes them, as Python reads a decimal:
    ``1.234,5`` → ``1234.5`` in German. Raises InvalidOperation for what the format does
    not write (``2.75`` in German: a dot groups thousands there, three digits at a time)."""
    whole, point, fraction = digits.partition(numbers.decimal)
    head, *groups = whole.split(numbers.grouping)
    if groups and (len(head) > 3 or any(len(group) != 3 for group in groups)):
        raise InvalidOperation
    whole = "".join((head, *groups))
    if not whole.isdigit() or (point and not fraction.isdigit()):
        raise InvalidOperation
    return f"{whole}.{fraction}" if point else whole


def _in_other_format(cleaned: str, numbers: NumberFormat) -> str:
    """Why a number that another format reads is no number in ``numbers``; else ""."""
    number = _SCIENTIFIC.match(cleaned) or _NUMBER.match(cleaned)
    if number is None or number.groupdict().get("suffix", "") not in ("", *_SUFFIXES):
        return ""
    for other in NUMBER_FORMATS.values():
        try:
            _plain_decimal(number["num"], other)
        except InvalidOperation:
            continue
        return f" in the file's number format, {numbers.example} ({numbers.said})"
    return ""


#: How many rows of a file its number format is decided from (as its encoding is from its
#: first 256 KB): enough to meet a decimal or a grouped thousand in a list's amounts.
NUMBER_SAMPLE_ROWS = 5000


@dataclass(frozen=True)
class NumberReading:
    """The number format a file is read in; whether it was a guess (none of the file's
    numbers proves it: ``1,500`` is 1500 in English and one and a half in German), with a
    number that shows why; whether the user chose it."""

    numbers: NumberFormat
    unsure: bool = False
    example: str = ""
    chosen: bool = False

    def describe(self, name: str) -> str:
        text = f"Numbers in {name} are read as {self.numbers.example}: {self.numbers.said}"
        if self.chosen:
            return text + ", as chosen."
        if self.unsure:
            return printable(
                f"{text}. This is a guess: no number in the file's first rows shows its "
                f"decimal separator, and another format reads '{self.example}' as another "
                "number. Choose the file's number format if the numbers are not meant so."
            )
        return text + "."


def _numbers_written(cells: Iterable[str]) -> Iterator[str]:
    """The numbers the cells write with more than digits, a band's two apart (``1.001-5.000``
    is two numbers)."""
    for cell in cells:
        raw = cell.strip()
        if raw.isdigit():
            continue
        if band := _BAND.match(raw.rstrip("+").strip()):
            yield from (band["low"].strip(), band["high"].strip())
        else:
            yield raw


def decide_numbers(cells: Iterable[str]) -> NumberReading:
    """The number format that ``cells`` (a file's numbers as written) show. A cell that only
    one format reads (``1.234,56``, ``1,5``, ``12.345.678``, ``2.75``) proves its decimal
    separator, and the most proved one wins; without proof, a cell that groups three digits
    (``1,500``, ``1.500``) makes a guess that the separator groups thousands; without
    either, English. The grouping a cell shows (a dot, a space, an apostrophe) tells which
    format of that decimal separator."""
    proved = {".": 0, ",": 0}
    hinted = {".": 0, ",": 0}
    example = {".": "", ",": ""}
    grouped: set[str] = set()
    for raw in _numbers_written(cells):
        cleaned = _number_text(raw)
        number = _SCIENTIFIC.match(cleaned) or _NUMBER.match(cleaned)
        if number is None:
            continue
        digits = number["num"]
        spaced = _GROUPED_DIGITS.search(raw)
        if spaced:
            grouped.add(" " if any(mark.isspace() for mark in spaced[0]) else "'")
        commas, dots = digits.count(","), digits.count(".")
        if not commas and not dots:
            continue
        if commas and dots:
            decimal, proof = ("," if digits.rfind(",") > digits.rfind(".") else "."), True
        else:
            separator = "," if commas else "."
            head, _, tail = digits.partition(separator)
            other = "." if separator == "," else ","
            if max(commas, dots) > 1:
                decimal, proof = other, True  # "12.345.678": it groups thousands
            elif len(tail) != 3 or len(head) > 3 or head == "0" or spaced:
                decimal, proof = separator, True  # "1,5", "2.75", "1234,567", "1 234,567"
            else:
                decimal, proof = other, False  # "1,500": it may group, or be a decimal
        if (groups := "." if decimal == "," else ",") in digits:
            grouped.add(groups)
        (proved if proof else hinted)[decimal] += 1
        example[decimal] = example[decimal] or raw
    counts = proved if any(proved.values()) else hinted
    decimal = "," if counts[","] > counts["."] else "."
    if decimal == ",":
        numbers = FRENCH if " " in grouped and "." not in grouped else GERMAN
    else:
        numbers = SWISS if "'" in grouped and "," not in grouped else ENGLISH
    unsure = not any(proved.values()) and any(hinted.values())
    return NumberReading(numbers, unsure, example[decimal] if unsure else "")


def is_employee_band(text: str) -> bool:
    """Whether a head count is a band (``51-200``, ``10,001+``): :func:`parse_employees`
    keeps its lower bound, the fewest employees the company has."""
    raw = text.strip()
    return raw.endswith("+") or _BAND.match(raw) is not None


def parse_employees(text: str, numbers: NumberFormat | None = None) -> int:
    """Parse a head count or a band: ``250``, ``1,200``, ``51-200`` (lower bound), ``10,001+``,
    in the file's ``numbers`` format (as :func:`parse_amount`)."""
    raw = text.strip()
    if raw.isdigit():
        return int(raw)
    cleaned = raw.rstrip("+").strip()
    band = _BAND.match(cleaned)
    if band:
        low, high = parse_amount(band["low"], 1, numbers), parse_amount(band["high"], 1, numbers)
        if high < low:
            raise ValueError(f"'{raw}' is not a valid employee band")
        return low
    try:
        return parse_amount(cleaned, 1, numbers)
    except ValueError:
        why = _in_other_format(_number_text(cleaned), numbers) if numbers else ""
        raise ValueError(f"'{raw}' is not a number of employees{why}") from None


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
    value = clean_website(text).lower()
    if "://" in value:
        value = _SCHEME.sub("", value)
    value = value.partition("/")[0].partition("?")[0].partition("#")[0]
    value = value.rpartition("@")[2].partition(":")[0].strip(".")
    value = value.removeprefix("www.")
    if not value.isascii():
        try:
            value = value.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return value if _DOMAIN.match(value) else None


_STRAY_SPACES = re.compile(r"^(?:\s|%20)+|(?:\s|%20)+$", re.IGNORECASE)


def clean_website(text: str) -> str:
    """A website without the spaces around it, written out or URL-encoded as ``%20`` (a
    list that pasted ``example.com `` into a link): no address begins or ends with one."""
    if text[:1].isspace() or text[-1:].isspace() or "%" in text:
        return _STRAY_SPACES.sub("", text)
    return text


_LEGAL_FORMS = {
    "inc", "incorporated", "llc", "ltd", "limited", "corp", "corporation", "co", "company",
    "gmbh", "ag", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "plc", "oy", "ab", "as",
    "aps", "kg", "ohg", "pty", "pte", "kk", "sl", "lp", "llp", "the",
}  # fmt: skip
_WORD = re.compile(r"[^\W_]+")
#: The same words in ASCII text, found three times faster than by the Unicode classes.
_ASCII_WORD = re.compile(r"[a-z0-9]+")


def fold_text(text: str | None) -> str:
    """Words of a text with case, accents and punctuation folded away: what searches compare."""
    if not text:
        return ""
    folded = text.casefold()
    if folded.isascii():
        return " ".join(_ASCII_WORD.findall(folded.replace("&", " and ")))
    folded = unicodedata.normalize("NFKD", folded)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(_WORD.findall(folded.replace("&", " and ")))


def normalize_name(text: str | None) -> str:
    """A company name reduced for matching: folded, and legal forms such as GmbH dropped."""
    return name_of_folded(fold_text(text))


def name_of_folded(folded: str) -> str:
    """:func:`normalize_name` of a name already folded by :func:`fold_text`."""
    return " ".join([w for w in folded.split() if w not in _LEGAL_FORMS])


#: Names people use for a country that ISO 3166 and its translations do not list.
_COUNTRY_SYNONYMS = {
    "GB": ("UK", "Britain", "Great Britain", "England", "Scotland", "Wales", "Northern Ireland"),
    "US": ("America", "United States of America"),
    "NL": ("Holland",),
    "RU": ("Russia",),
    "TR": ("Turkey",),
    "CI": ("Ivory Coast",),
    "MK": ("Macedonia",),
    "SZ": ("Swaziland",),
    "MM": ("Burma",),
    "VA": ("Vatican", "Vatican City"),
    "AE": ("UAE",),
    "CD": ("DR Congo", "DRC"),
    "PS": ("Palestine",),
}


def _country_key(text: str) -> str:
    """A country as written, folded: ``U.S.A.`` → ``usa``, ``The Netherlands`` → ``netherlands``."""
    key = fold_text(text).removeprefix("the ")
    return key.replace(" ", "") if len(key) <= 5 else key


@lru_cache(maxsize=1)
def _iso_countries() -> dict[str, str]:
    """Folded ISO codes, English names and synonyms → ISO 3166 alpha-2 code."""
    codes: dict[str, str] = {}
    for country in pycountry.countries:
        for name in (
            country.alpha_2,
            country.alpha_3,
            country.name,
            getattr(country, "official_name", ""),
            getattr(country, "common_name", ""),
        ):
            if name:
                codes[_country_key(name)] = country.alpha_2
    for code, synonyms in _COUNTRY_SYNONYMS.items():
        codes |= {_country_key(s): code for s in synonyms}
    return codes


@lru_cache(maxsize=1)
def _translated_countries() -> dict[str, str]:
    """Folded names of countries in every language pycountry translates (``Deutschland``,
    ``Allemagne``) → code; a name two countries share in different languages is left out."""
    found: dict[str, set[str]] = {}
    for language in sorted(p.name for p in Path(pycountry.LOCALES_DIR).iterdir()):
        translation = _translation(language)
        if translation is None:
            continue
        for country in pycountry.countries:
            key = _country_key(translation.gettext(country.name))
            found.setdefault(key, set()).add(country.alpha_2)
    return {key: codes.pop() for key, codes in found.items() if len(codes) == 1}


@lru_cache(maxsize=4096)
def country_code(text: str | None) -> str | None:
    """The ISO 3166 alpha-2 code of a country as people write it (``US``, ``USA``, ``United
    States``, ``united states``, ``Deutschland``); None for a spelling Accord does not know:
    it is not guessed. Countries are few and repeat on every row: answers are remembered."""
    if not text or not (key := _country_key(text)):
        return None
    return _iso_countries().get(key) or _translated_countries().get(key)


@lru_cache(maxsize=64)
def _translation(language: str) -> gettext.NullTranslations | None:
    try:
        return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
    except OSError:
        return None


def country_name(code: str, language: str = "en") -> str:
    """The name of the country with ISO code ``code`` in ``language`` (``de``, ``pt_BR``;
    English when that language has no translation); the code itself if it names none."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    translation = _translation(language) or _translation(language.split("_")[0])
    if translation is None:
        return str(getattr(country, "common_name", country.name))
    return translation.gettext(country.name)


def normalize_country(text: str | None) -> str:
    """What two accounts' countries compare by: the ISO code, or the folded text of a
    spelling that names no country."""
    return country_code(text) or normalize_name(text)


#: A number written with its country code, in digits and the separators people put between
#: them (``+49 30 1234567``, ``+1 (415) 555-0100``, ``+442079460958``): most phones in a
#: company list. phonenumbers reads such a text as the plus and its digits alone.
_INTERNATIONAL = re.compile(r" *\+([0-9 ().-]*)")
_NOT_DIGIT = re.compile(r"[^0-9]")
#: phonenumbers' own bounds: the longest text it parses, and the length of a national number.
_LONGEST_TEXT = 250
_NATIONAL_DIGITS = range(2, 18)


def phone_e164(text: str | None, country: str | None = None) -> str | None:
    """A phone number in E.164 (``+493012345678``) however it was written; a number written
    without its country code is read as one of ``country`` (an ISO code). None when the text
    is no possible phone number there."""
    if not text or not any(ch.isdigit() for ch in text):
        return None
    if len(text) <= _LONGEST_TEXT and (written := _INTERNATIONAL.fullmatch(text)):
        e164 = _international_e164(_NOT_DIGIT.sub("", written[1]))
        if e164 is not _ASK_THE_LIBRARY:
            return e164
    try:
        number = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException:
        return None
    # A number that is possible only locally (no area code) names no one phone.
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_ASK_THE_LIBRARY = "?"


def _international_e164(digits: str) -> str | None:
    """What :func:`phone_e164` gives for ``+`` and ``digits`` (ASCII), as phonenumbers.parse,
    is_possible_number_with_reason and format_number do it but without reading the text
    again at each step: the country code, the national prefix (``+49 030 …``) dropped when
    what is left can be a number, the length checked against the country's. A plus with
    no country code after it is read by the library (``_ASK_THE_LIBRARY``)."""
    if len(digits) < 3:  # phonenumbers: too short after the plus
        return None
    for code_digits in (1, 2, 3):
        if (code := _CALLING_CODE_OF.get(digits[:code_digits])) is not None:
            break
    else:
        return _ASK_THE_LIBRARY
    metadata = _metadata(code)
    national = digits[code_digits:]
    if metadata is None or len(national) < _NATIONAL_DIGITS.start:
        return None
    stripped = national
    if (prefix := _national_prefix(code)) is not None and prefix.match(national):
        _, stripped, _ = _strip_national_prefix(national, metadata)
    possible = _possible_length(code, len(stripped))
    if stripped == national or possible not in _NOT_A_WHOLE_NUMBER:
        national = stripped
    else:
        possible = _possible_length(code, len(national))
    if (
        len(national) not in _NATIONAL_DIGITS
        or possible != phonenumbers.ValidationResult.IS_POSSIBLE
    ):
        return None
    return f"+{code}{national}"


#: The digits of every calling code (none starts with 0) → the code.
_CALLING_CODE_OF = {str(code): code for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE}
_strip_national_prefix = phonenumberutil._maybe_strip_national_prefix_carrier_code
_number_length = phonenumberutil._test_number_length
#: What phonenumbers.parse keeps the national prefix for: the rest would be no number.
_NOT_A_WHOLE_NUMBER = (
    phonenumbers.ValidationResult.TOO_SHORT,
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    phonenumbers.ValidationResult.INVALID_LENGTH,
)


@lru_cache(maxsize=512)
def _metadata(code: int) -> phonenumbers.PhoneMetadata | None:
    """The numbering plan of a calling code, as phonenumbers finds it for a parsed number."""
    region = phonenumbers.region_code_for_country_code(code)
    return phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(code, region)


@lru_cache(maxsize=512)
def _national_prefix(code: int) -> re.Pattern[str] | None:
    """What a national prefix of the calling code's plan looks like; phonenumbers strips
    nothing from a number it does not begin (most numbers: it is looked for here once)."""
    metadata = _metadata(code)
    prefix = metadata.national_prefix_for_parsing if metadata is not None else None
    return re.compile(prefix) if prefix else None


@lru_cache(maxsize=4096)
def _possible_length(code: int, length: int) -> int:
    """Whether a national number of ``length`` digits can be one in the calling code's
    plan (a ``phonenumbers.ValidationResult``): phonenumbers' answer, which depends on the
    length alone."""
    metadata = _metadata(code)
    assert metadata is not None, "asked of a calling code with a plan"
    return _number_length("0" * length, metadata)


def shown_phone(e164: str) -> str:
    """An E.164 number as people read it: ``+49 30 12345678``."""
    number = phonenumbers.parse(e164)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


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
