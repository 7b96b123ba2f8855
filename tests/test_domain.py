"""Domain rules without a database: values, header names, roles and the edit use cases."""

from __future__ import annotations

from dataclasses import replace
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.accounts import Account, create_account, update_account
from domain.errors import ConcurrentEditError, PermissionDenied, ValidationError
from domain.fields import ACCOUNT_FIELDS, field_for_header
from domain.importing import OnDuplicate, find_header_row, merge
from domain.users import Action, Role, User
from domain.values import (
    counted,
    normalize_domain,
    normalize_name,
    parse_amount,
    parse_employees,
    protect_cell,
    shown_time,
    unprotect_cell,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [("1,200", 1200), ("1.200", 1200), ("$5M", 5_000_000), ("5 000", 5000),
     ("1,5 Mio", 1_500_000), ("€1.234.567,89", 1_234_568), ("USD 300k", 300_000), ("2.75", 3),
     ("6.0E7", 60_000_000), ("1.5e+3", 1500), ("$1.2M", 1_200_000), ("10001+", 10001)],
)  # fmt: skip
def test_amounts_as_people_write_them(text, value):
    assert parse_amount(text) == value


@pytest.mark.parametrize("text", ["1e99", "99999999999999999999", "20000000000 billion"])
def test_an_amount_beyond_what_is_stored_says_so(text):
    with pytest.raises(ValueError, match=f"'{text}' is larger than Accord stores"):
        parse_amount(text)


@pytest.mark.parametrize("text", ["abc", "1,2,3,", "12x", "--5", "6.0E", "E7"])
def test_garbage_is_not_a_number_and_the_message_quotes_it(text):
    with pytest.raises(ValueError, match=f"'{text}' is not a number"):
        parse_amount(text)


@given(st.integers(min_value=0, max_value=10**12))
def test_grouped_integers_parse_back(n):
    assert parse_amount(f"{n:,}") == n
    assert parse_amount(f"{n:,}".replace(",", ".")) == n
    assert parse_amount(f"{n:,}".replace(",", " ")) == n


@pytest.mark.parametrize(("text", "value"), [("51-200", 51), ("10,001+", 10001), ("1 – 10", 1)])
def test_employee_bands_count_their_lower_bound(text, value):
    assert parse_employees(text) == value


@pytest.mark.parametrize(
    ("text", "domain"),
    [("HTTPS://www.Example.com/about?x=1", "example.com"), ("example.com:8080", "example.com"),
     ("sales@example.co.uk", "example.co.uk"), ("n/a", None), ("", None),
     ("http://www.yqcoal.com%20", "yqcoal.com"), ("%20yqcoal.com/ ", "yqcoal.com")],
)  # fmt: skip
def test_domains_normalise_for_dedupe(text, domain):
    assert normalize_domain(text) == domain


def test_names_match_without_case_accents_punctuation_or_legal_form():
    assert normalize_name("The Müller & Söhne GmbH") == normalize_name("MULLER and SOHNE")
    assert normalize_name("Acme Corp., Inc.") == "acme"


@pytest.mark.parametrize("text", ["=1+1", "+49 30", "-5", "@SUM(A1)", "plain", "'quoted"])
def test_protected_cells_come_back_unchanged(text):
    protected = protect_cell(text)
    assert not protected.startswith(("=", "+", "-", "@"))
    assert unprotect_cell(protected) == text


@pytest.mark.parametrize(
    ("header", "field"),
    [("Company name", "name"), ("Account Name", "name"), ("Company Domain Name", "website"),
     ("Website", "website"), ("Number of Employees", "employees"),
     ("NumberOfEmployees", "employees"), ("Annual Revenue", "annual_revenue"),
     ("Country/Region", "country"), ("BillingCountry", "country"), ("Phone Number", "phone"),
     ("Lead Source", "source")],
)  # fmt: skip
def test_crm_export_headers_are_recognised(header, field):
    assert field_for_header(header, ACCOUNT_FIELDS).name == field


def test_header_row_is_found_below_a_title_and_blank_rows():
    rows = [["Accounts 2026", "", ""], ["", "", ""], ["Company", "City", "Phone"], ["A", "B", "C"]]
    assert find_header_row(rows, ACCOUNT_FIELDS) == 2


@pytest.mark.parametrize(
    ("policy", "changes"),
    [(OnDuplicate.SKIP, {}), (OnDuplicate.FILL, {"city": "Rome"}),
     (OnDuplicate.OVERWRITE, {"city": "Rome", "employees": 9})],
)  # fmt: skip
def test_duplicate_policies(policy, changes):
    existing = {"city": None, "employees": 5, "custom": {}}
    assert merge(existing, {"city": "Rome", "employees": 9, "custom": {}}, policy) == changes


def _user(role: Role) -> User:
    return User(uuid4(), role.value, role)


def test_role_matrix():
    owner, marketing, rep = (_user(r) for r in Role)
    assert all(owner.can(a) for a in Action)
    assert marketing.can(Action.IMPORT) and not marketing.can(Action.MANAGE_USERS)
    assert rep.can(Action.EXPORT)
    assert not any(rep.can(a) for a in (Action.EDIT_ACCOUNTS, Action.IMPORT, Action.UNDO_IMPORT))


class FakeAccounts:
    def __init__(self) -> None:
        self.saved: dict = {}

    def get(self, account_id):
        return self.saved.get(account_id)

    def add(self, account, user):
        self.saved[account.id] = replace(account, version=1)
        return self.saved[account.id]

    def save(self, account, user):
        if self.saved[account.id].version != account.version:
            raise ConcurrentEditError()
        self.saved[account.id] = replace(account, version=account.version + 1)
        return self.saved[account.id]


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.accounts = FakeAccounts()
        self.committed = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def commit(self):
        self.committed += 1


def test_create_collects_every_problem_and_saves_nothing():
    uow = FakeUnitOfWork()
    with pytest.raises(ValidationError) as error:
        create_account(uow, _user(Role.OWNER), {"name": " ", "employees": "x", "website": "n/a"})
    assert set(error.value.problems) == {"name", "employees", "website"}
    assert uow.accounts.saved == {} and uow.committed == 0


def test_a_rep_cannot_edit_an_account():
    uow = FakeUnitOfWork()
    account = create_account(uow, _user(Role.MARKETING), {"name": "Acme"})
    with pytest.raises(PermissionDenied, match="rep"):
        update_account(uow, _user(Role.REP), account, {"city": "Rome"})
    assert uow.accounts.get(account.id).city is None


def test_update_parses_typed_text():
    uow = FakeUnitOfWork()
    account = create_account(uow, _user(Role.OWNER), {"name": "Acme"})
    saved = update_account(uow, _user(Role.OWNER), account, {"employees": "51-200"})
    assert isinstance(saved, Account) and saved.employees == 51 and saved.version == 2


def test_a_count_of_one_reads_in_the_singular():
    assert [counted(n, "account") for n in (0, 1, 2000)] == [
        "0 accounts", "1 account", "2,000 accounts"]  # fmt: skip


def test_stored_times_are_shown_on_this_computers_clock(monkeypatch):
    import time
    from datetime import UTC, datetime

    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        stored = datetime(2026, 7, 1, 9, 30)  # SQLite hands UTC back without a zone
        assert shown_time(stored) == "2026-07-01 11:30"
        assert shown_time(stored.replace(tzinfo=UTC)) == "2026-07-01 11:30"  # PostgreSQL
        assert shown_time(datetime(2026, 12, 31, 23, 30), "%Y-%m-%d") == "2027-01-01"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_counts_and_lists_read_as_a_person_writes_them():
    from domain.importing import ImportSummary
    from domain.targets import history_line
    from domain.values import counted, in_words

    assert [counted(1, "dossier"), counted(2, "dossier")] == ["1 dossier", "2 dossiers"]
    assert [counted(1, "criterion", "criteria"), counted(3, "criterion", "criteria")] == [
        "1 criterion", "3 criteria"]  # fmt: skip
    assert [in_words(["A"], "or"), in_words(["A", "B"]), in_words(["A", "B", "C"], "or")] == [
        "A", "A and B", "A, B or C"]  # fmt: skip
    assert ImportSummary("a.csv", skipped=1).describe() == (
        "a.csv: 0 created, 0 updated, 1 duplicate skipped, 0 rejected"
    )
    assert history_line("build", {"icp": "Core v2", "tiers": ["A", "B"], "added": 1}) == (
        "Built from Core v2 with tiers A and B: 1 account added"
    )
    assert history_line("remove", {"name": "Acme", "reason": "closed down"}) == (
        "Removed Acme: closed down"
    )
    assert history_line("hand off", {"accounts": 455}) == "Handed off 455 accounts"


def test_a_scaled_column_is_multiplied_before_it_is_rounded():
    from domain.importing import RowParser

    headers = ["Name", "Revenue", "Employees"]
    parse = RowParser(
        headers, ["name", "annual_revenue", "employees"], ACCOUNT_FIELDS, defused=True,
        scales=[1, 1_000_000, 1],
    )  # fmt: skip
    parsed = parse(["Yangquan Coal", "22.1", "1,200"])
    assert (parsed["annual_revenue"], parsed["employees"]) == (22_100_000, 1200)
    assert parse(["Walmart", "$648,125", ""])["annual_revenue"] == 648_125_000_000
