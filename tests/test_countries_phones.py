"""Countries are kept as typed and as an ISO 3166 code; phones as typed and in E.164. The
ICP, territories, dedupe, search and the list see one country and one number however
they were written; spellings that name no country are listed, not guessed."""

from __future__ import annotations

import uuid
from pathlib import Path

import phonenumbers
import pytest
from alembic import command
from alembic.config import Config
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert, select

from domain.icp import Criterion, IdealCustomerProfile, Operator
from domain.targets import Territories
from domain.values import country_code, country_name, phone_e164
from main import main
from storage.icp_sql import score_sql
from storage.importing.importer import import_accounts, import_contacts
from storage.read_models.account_list import ListColumn, ListQuery, count, page
from storage.schema import AccountRow, ContactRow
from storage.users import sign_in
from storage.workspace import MIGRATIONS, open_workspace

accounts = AccountRow.__table__
contacts = ContactRow.__table__

#: The shapes of a Salesforce export's BillingCountry.
SALESFORCE = (
    "Account Name,BillingCountry,Phone\n"
    "Acme,US,(415) 555-0100\n"
    "Bolt,USA,+1 212 555 0199\n"
    "Crane,United States,\n"
    "Delta,united states,\n"
    "Ember,U.S.A.,\n"
    "Fjord,Britain,020 7946 0958\n"
    "Gale,Atlantis,\n"
    "Hale,Atlantis,\n"
)


def _import(workspace, tmp_path: Path, text: str = SALESFORCE):
    path = tmp_path / "salesforce.csv"
    path.write_text(text, encoding="utf-8")
    return import_accounts(workspace, sign_in(workspace, "Olivia Owner"), path)


def test_a_country_reads_as_its_iso_code_however_it_is_written():
    for typed in ("US", "USA", "United States", "united states", "U.S.A.", "Vereinigte Staaten"):
        assert country_code(typed) == "US", typed
    assert country_code("Britain") == country_code("UK") == "GB"
    assert [country_code(t) for t in ("Atlantis", "Europe", "Korea", "", None)] == [None] * 5
    assert country_name("US", "de") == "Vereinigte Staaten"
    assert country_name("DE") == "Germany"


def test_a_phone_reads_as_e164_in_the_accounts_country():
    assert phone_e164("(415) 555-0100", "US") == "+14155550100"
    assert phone_e164("030 1234567", "DE") == "+49301234567"
    assert phone_e164("0044 20 7946 0958", "DE") == "+442079460958"
    # no country to read it in, too short, or no number at all: kept only as typed
    assert [phone_e164(t, c) for t, c in (("030 1234567", None), ("555 0100", "US"),
                                          ("ask Anna", "US"))] == [None] * 3  # fmt: skip


def _library_e164(text: str, country: str | None) -> str | None:
    """What phonenumbers alone makes of a phone: parsed, possible, in E.164."""
    try:
        number = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException:
        return None
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible != phonenumbers.ValidationResult.IS_POSSIBLE:  # not only locally
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_SEPARATED_DIGITS = st.lists(
    st.tuples(st.sampled_from("0123456789"), st.sampled_from(["", "", " ", "-", ".", "(", ")"])),
    max_size=20,
).map(lambda pairs: "".join(digit + after for digit, after in pairs))


@given(
    st.sampled_from(["+", " +", "+ ", "+1 ", "+49 ", "+44 (0)", "+39 0", "+7 ", "+800 "]),
    _SEPARATED_DIGITS,
    st.sampled_from([None, "US", "DE", "GB", "IT", "FR"]),
)
def test_a_phone_with_its_country_code_reads_as_the_library_reads_it(start, digits, country):
    text = start + digits
    assert phone_e164(text, country) == _library_e164(text, country)


def test_a_phone_with_its_country_code_is_read_without_parsing_it_again(monkeypatch):
    # an import reads a million of them: phonenumbers.parse takes 20 µs a phone
    def parse(*_):
        pytest.fail("phonenumbers.parse was called")

    monkeypatch.setattr(phonenumbers, "parse", parse)
    assert phone_e164("+49 30 1234567", "US") == "+49301234567"
    assert phone_e164("+1 (415) 555-0100", None) == "+14155550100"
    assert phone_e164("+44 (0)20 7946 0958", "DE") == "+442079460958"
    assert phone_e164("+1 555 0100", "US") is None  # too short for a US number


def test_an_icp_on_united_states_keeps_every_us_account_of_the_export(workspace, tmp_path):
    _import(workspace, tmp_path)
    icp = IdealCustomerProfile(
        "US", (Criterion("country", Operator.IN, ("United States",), must_have=True),)
    )
    with workspace.read() as conn:
        rows = conn.execute(select(accounts.c.name, accounts.c.country, score_sql(icp))).all()
    kept = sorted(name for name, _, score in rows if score == 100)
    assert kept == ["Acme", "Bolt", "Crane", "Delta", "Ember"]
    # the Python evaluator, which explains a score, agrees
    assert sorted(n for n, country, _ in rows if icp.evaluate({"country": country}).tier) == kept
    assert icp.criteria[0].describe() == "Country in United States"


def test_unknown_countries_are_listed_and_kept_as_typed_without_a_code(workspace, tmp_path):
    summary = _import(workspace, tmp_path)
    assert summary.unknown_countries == {"Atlantis": 2}
    assert "'Atlantis' (2 rows)" in summary.unknown_countries_line()
    with workspace.read() as conn:
        stored = dict(
            conn.execute(
                select(accounts.c.name, accounts.c.country_code).where(
                    accounts.c.country == "Atlantis"
                )
            ).all()
        )
    assert stored == {"Gale": None, "Hale": None}


def test_the_command_line_lists_unknown_countries(tmp_path, capsys):
    path = tmp_path / "salesforce.csv"
    path.write_text(SALESFORCE, encoding="utf-8")
    assert main(["--db", str(tmp_path / "w.sqlite"), "--user", "Ann",
                 "import", "accounts", str(path)]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "Countries Accord does not know" in out and "'Atlantis' (2 rows)" in out


def test_the_same_company_in_usa_and_united_states_is_one_account(workspace, tmp_path):
    summary = _import(workspace, tmp_path, "Account Name,Country\nAcme,USA\nAcme,United States\n")
    assert (summary.created, summary.skipped) == (1, 1)


def test_the_list_shows_one_country_and_one_phone_and_finds_the_number(workspace, tmp_path):
    _import(workspace, tmp_path)
    query = ListQuery(sort=ListColumn.COUNTRY)
    rows = {r[1]: r for r in page(workspace, query, 0, 10, count(workspace, query))}
    assert {rows[n][1 + ListColumn.COUNTRY] for n in ("Acme", "Bolt", "Crane")} == {"US"}
    assert rows["Fjord"][1 + ListColumn.COUNTRY] == "GB"
    assert rows["Gale"][1 + ListColumn.COUNTRY] == "Atlantis"
    assert rows["Acme"][1 + ListColumn.PHONE] == "+14155550100"
    for typed in ("4155550100", "+1 415 555 0100", "415-555-0100"):
        assert count(workspace, ListQuery(search=typed)) == 1, typed
    # sorted by country, the US accounts stand together
    names = [r[1] for r in page(workspace, query, 0, 10, count(workspace, query))]
    us = [i for i, n in enumerate(names) if n in {"Acme", "Bolt", "Crane", "Delta", "Ember"}]
    assert us == list(range(us[0], us[0] + 5))


def test_a_contacts_phone_is_read_in_its_accounts_country(workspace, tmp_path):
    _import(workspace, tmp_path)
    people = tmp_path / "people.csv"
    people.write_text("Account,Contact Name,Phone\nFjord,Ann,07700 900123\n", encoding="utf-8")
    import_contacts(workspace, sign_in(workspace, "Olivia Owner"), people)
    with workspace.read() as conn:
        assert conn.execute(select(contacts.c.phone, contacts.c.phone_e164)).one() == (
            "07700 900123",
            "+447700900123",
        )


def test_a_territory_takes_a_country_however_the_accounts_spell_it():
    territories = Territories.from_document({"United States": "Sam", "Bavaria": "Jo"})
    assert territories.rep_for(country_code("USA"), None) == "Sam"
    assert territories.rep_for(country_code("Deutschland"), " bavaria") == "Jo"
    assert territories.rep_for(None, "Atlantis") is None


def test_0007_fills_codes_and_phones_of_an_existing_workspace(db_url):
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    old = open_workspace(db_url, migrate=False)
    ids = {name: uuid.uuid4() for name in ("Acme", "Gale")}
    with old.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0006")
        for name, country, phone in (("Acme", "USA", "(415) 555-0100"), ("Gale", "Atlantis", None)):
            conn.execute(insert(accounts).values(
                id=ids[name], name=name, country=country, phone=phone, name_key=name.lower(),
                search_text=f" {name.lower()} ", changed_by="Ann"))  # fmt: skip
        conn.execute(insert(contacts).values(
            id=uuid.uuid4(), account_id=ids["Acme"], name="Bo", phone="212 555 0199",
            changed_by="Ann"))  # fmt: skip
    old.close()
    upgraded = open_workspace(db_url)
    with upgraded.read() as conn:
        stored = {
            r.name: (r.country_code, r.phone_e164, r.search_text)
            for r in conn.execute(select(accounts))
        }
        assert conn.execute(select(contacts.c.phone_e164)).scalar_one() == "+12125550199"
    assert stored == {
        "Acme": ("US", "+14155550100", " acme 14155550100 "),
        "Gale": (None, None, " gale "),
    }
    assert count(upgraded, ListQuery(search="4155550100")) == 1
    upgraded.close()
