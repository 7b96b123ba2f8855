"""The fields of accounts and contacts: their names, labels, value kinds and the header
names that company-list exports use for them.

The label is what screens and exports show; every alias is a header that the importer
maps to the field. Exported files use the labels, so an export re-imports unchanged.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property, partial

from domain.values import (
    NumberFormat,
    clean_text,
    clean_website,
    is_email,
    normalize_domain,
    parse_amount,
    parse_employees,
    parse_flag,
    parse_tags,
    parse_year,
)


class Kind(enum.Enum):
    TEXT = "text"
    DOMAIN = "domain"
    EMPLOYEES = "employees"
    AMOUNT = "amount"
    YEAR = "year"
    TAGS = "tags"
    EMAIL = "email"
    FLAG = "flag"


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: Kind = Kind.TEXT
    aliases: tuple[str, ...] = ()
    required: bool = False
    max_length: int = 255

    def parse(
        self, text: str, scale: int = 1, numbers: NumberFormat | None = None
    ) -> str | int | bool | None:
        """Parse the text of a cell; empty cells are None. Raises ValueError with a reason.
        A number is read in the file's ``numbers`` format (given none, in the one its text
        shows), an amount multiplied by ``scale`` (a file's unit) before it is rounded."""
        return self.reader(scale, numbers)(text)

    def reader(
        self, scale: int = 1, numbers: NumberFormat | None = None
    ) -> Callable[[str], str | int | bool | None]:
        """:meth:`parse` for every cell of a column with this ``scale`` and ``numbers``
        format, what depends on the field alone looked up once: an import reads millions."""
        required, longest, label = self.required, self._longest, self.label
        empty = False if self.kind is Kind.FLAG else None
        convert: Callable[[str], str | int | bool] | None
        if scale != 1:
            convert = partial(parse_amount, scale=scale, numbers=numbers)
        elif (parse_number := self._parse_number) is not None:

            def convert(value: str) -> int:
                return parse_number(value, numbers)

        else:
            convert = self._parse_value
        if convert is str:
            convert = None  # a text is its own value

        def read(text: str) -> str | int | bool | None:
            value = clean_text(text).strip()
            if not value:
                if required:
                    raise ValueError(f"{label} is required")
                return empty
            if len(value) > longest:
                raise ValueError(f"longer than {self.max_length} characters")
            return value if convert is None else convert(value)

        return read

    @property
    def numeric(self) -> bool:
        """Whether this field's cells are numbers that a file writes in its number format."""
        return self.kind in _NUMBER_PARSERS

    @property
    def scalable(self) -> bool:
        """Whether a file can give this field in a unit (thousands, millions)."""
        return self.kind is Kind.AMOUNT

    # Looked up once per field, not per cell: an import parses millions of cells, and a
    # Kind (an enum) hashes in Python.
    @cached_property
    def _longest(self) -> float:
        return self.max_length if self.kind in _LIMITED else math.inf

    @cached_property
    def _parse_value(self) -> Callable[[str], str | int | bool]:
        return _PARSERS[self.kind]

    @cached_property
    def _parse_number(self) -> Callable[[str, NumberFormat | None], int] | None:
        return _NUMBER_PARSERS.get(self.kind)


_LIMITED = frozenset({Kind.TEXT, Kind.TAGS, Kind.DOMAIN})


def _parse_website(text: str) -> str:
    website = clean_website(text)
    if normalize_domain(website) is None:
        raise ValueError(f"'{text}' is not a website or domain")
    return website


def _parse_email(text: str) -> str:
    if not is_email(text):
        raise ValueError(f"'{text}' is not an e-mail address")
    return text


def _parse_amount(text: str, numbers: NumberFormat | None) -> int:
    return parse_amount(text, 1, numbers)


#: The kinds whose cells are numbers written in a file's number format.
_NUMBER_PARSERS: dict[Kind, Callable[[str, NumberFormat | None], int]] = {
    Kind.EMPLOYEES: parse_employees,
    Kind.AMOUNT: _parse_amount,
}
_PARSERS: dict[Kind, Callable[[str], str | int | bool]] = {
    Kind.TEXT: str,
    Kind.DOMAIN: _parse_website,
    Kind.YEAR: parse_year,
    Kind.TAGS: parse_tags,
    Kind.EMAIL: _parse_email,
    Kind.FLAG: parse_flag,
}

ACCOUNT_FIELDS: tuple[Field, ...] = (
    Field("name", "Account Name", aliases=(
        "name", "company", "company name", "account", "account name", "organization",
        "organisation", "organization name", "business name", "firm", "customer", "client",
        "organization - name", "display name", "firmenname"),
        required=True),
    Field("website", "Website", Kind.DOMAIN, aliases=(
        "website", "web site", "domain", "company domain name", "company domain", "url",
        "website url", "homepage", "web", "site", "websiteurl", "organization - website")),
    Field("industry", "Industry", aliases=(
        "industry", "sector", "vertical", "branche", "industry type",
        "organization - industry")),
    Field("employees", "Employees", Kind.EMPLOYEES, aliases=(
        "employees", "number of employees", "numberofemployees", "no of employees",
        "employee count", "headcount", "head count", "company size", "size", "staff",
        "size range", "organization - number of employees", "mitarbeiter",
        "anzahl der mitarbeiter")),
    Field("annual_revenue", "Annual Revenue", Kind.AMOUNT, aliases=(
        "annual revenue", "annualrevenue", "revenue", "yearly revenue", "turnover",
        "annual turnover", "sales volume", "revenues", "organization - annual revenue",
        "umsatz", "jahresumsatz", "jährlicher umsatz")),
    Field("country", "Country", aliases=(
        "country", "country/region", "billingcountry", "billing country", "country region",
        "shippingcountry", "nation", "hq country", "address 1: country/region", "address1 country",
        "organization - address - country", "land", "land/region")),
    Field("region", "Region", aliases=(
        "region", "state", "state/region", "state/province", "province", "billingstate",
        "billing state", "county", "territory", "address 1: state/province",
        "address1 stateorprovince",
        "organization - address - state/county")),
    Field("city", "City", aliases=(
        "city", "billingcity", "billing city", "town", "locality", "address 1: city",
        "address1 city",
        "organization - address - city/town/village/locality")),
    Field("phone", "Phone", aliases=(
        "phone", "phone number", "telephone", "tel", "main phone", "company phone",
        "business phone", "phone 1", "phone work", "telephone1", "organization - phone")),
    Field("founded_year", "Founded Year", Kind.YEAR, aliases=(
        "founded year", "founded", "year founded", "founding year", "established",
        "year established", "yearstarted", "year started")),
    Field("address", "Address", aliases=(
        "address", "street", "street address", "billingstreet", "billing street",
        "address 1: street 1", "address1 line1", "address line 1", "organization - address",
        "organization - address - street/road name")),
    Field("postal_code", "Postal Code", max_length=20, aliases=(
        "postal code", "postcode", "zip", "zip code", "billingpostalcode",
        "billing postal code", "billing code", "address 1: zip/postal code",
        "address1 postalcode",
        "organization - address - zip/postal code")),
    Field("description", "Description", max_length=4000, aliases=(
        "description", "about", "notes", "company description", "background")),
    Field("tags", "Tags", Kind.TAGS, max_length=1000, aliases=(
        "tags", "tag", "labels", "keywords", "categories")),
    Field("source", "Source", aliases=(
        "source", "lead source", "leadsource", "account source", "accountsource",
        "original source", "origin", "list source")),
)  # fmt: skip

CONTACT_FIELDS: tuple[Field, ...] = (
    Field("account", "Account", aliases=(
        "account", "account name", "company", "company name", "organization",
        "organisation", "account domain", "company domain name", "website", "domain",
        "person - organization", "associated company", "parent customer"),
        required=True),
    Field("name", "Contact Name", aliases=(
        "name", "contact name", "full name", "contact", "person", "person - name"),
        required=True),
    Field("title", "Title", aliases=(
        "title", "job title", "position", "role", "jobtitle", "job position",
        "person - job title")),
    Field("email", "Email", Kind.EMAIL, aliases=(
        "email", "e-mail", "email address", "e-mail address", "work email", "mail",
        "email work", "email 1", "person - email - work", "person - email")),
    Field("phone", "Phone", aliases=(
        "phone", "phone number", "telephone", "tel", "mobile", "mobile phone", "direct phone",
        "work phone", "phone work", "phone 1", "business phone", "mobilephone",
        "person - phone - work", "person - phone")),
    Field("decision_maker", "Decision Maker", Kind.FLAG, aliases=(
        "decision maker", "decision-maker", "decisionmaker", "is decision maker", "dm",
        "key contact", "buyer")),
)  # fmt: skip

#: What a contacts file may hold besides the contact: the account's website, which picks
#: the account when its name belongs to several (a header such as "Website" names either:
#: the account, or, when another column names the account, this field).
ACCOUNT_WEBSITE = Field("account_website", "Account Website", Kind.DOMAIN, aliases=(
    "website", "web site", "company website", "account website", "url", "homepage",
    "domain", "company domain name", "account domain"))  # fmt: skip
CONTACT_FILE_FIELDS: tuple[Field, ...] = (*CONTACT_FIELDS[:1], ACCOUNT_WEBSITE, *CONTACT_FIELDS[1:])

#: Columns that hold a first and a last name, joined into the contact's name.
FIRST_NAME_ALIASES = frozenset({"first name", "firstname", "given name", "vorname", "prénom"})
LAST_NAME_ALIASES = frozenset({"last name", "lastname", "surname", "family name", "nachname"})

#: Exported custom fields carry this prefix so that they import back as custom fields.
CUSTOM_PREFIX = "Custom: "


def custom_fields(values: Mapping[str, str]) -> dict[str, str]:
    """Custom fields as stored: names and texts cleaned like every field's."""
    return {clean_text(name).strip(): clean_text(text).strip() for name, text in values.items()}


_HEADER_NOISE = re.compile(r"[\s_.]+")


def header_key(header: str) -> str:
    """Compare headers without case, underscores, dots and extra spaces."""
    return _HEADER_NOISE.sub(" ", header.strip().casefold()).strip()


def fields_for_header(header: str, fields: tuple[Field, ...]) -> list[Field]:
    """The fields a header names, by label or alias (most name one, or none)."""
    key = header_key(header)
    return [f for f in fields if key == header_key(f.label) or key in f.aliases]


def field_for_header(header: str, fields: tuple[Field, ...]) -> Field | None:
    """The first field a header names, by label or alias; None if it names none."""
    return next(iter(fields_for_header(header, fields)), None)


def account_field(name: str) -> Field:
    return next(f for f in ACCOUNT_FIELDS if f.name == name)
