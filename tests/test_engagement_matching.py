"""The engagement import's matching against its rules written plainly, over random accounts
(some sharing a name, a website or a contact's e-mail, some deleted, with deleted contacts)
and random rows whose keys come again in later chunks: a row goes to the one live account
holding the first of its keys that any live account holds (for an e-mail, the account of
its oldest live contact with it, kept with the row); it is rejected naming how many
accounts share that key if several do, and as matching none if no key is held."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from domain.accounts import add_contact, create_account, delete_account, delete_contact
from domain.engagement import NOT_FOUND
from domain.users import Role
from domain.values import normalize_domain, normalize_name
from storage.importing import importer
from storage.importing.engagement import engagements
from storage.importing.importer import accounts, contacts
from storage.keys import email_key
from storage.repositories import SqlUnitOfWork
from tests.test_engagement import _csv, _import

#: Each example's names, websites and e-mails are its own: what earlier examples stored
#: shares no key with them.
_EXAMPLES = itertools.count()
#: An account's name and website, a contact's e-mail, a row's cells: an index into the
#: example's few (so that they are shared), the last one none.
_NAME, _WEBSITE, _EMAIL = (st.integers(0, 3),) * 3
_START = datetime(2025, 3, 1, tzinfo=UTC)


def _universe(k: int) -> tuple[list[str], list[str], list[str]]:
    """An example's names, websites (the last one the e-mails' domain, which a row with an
    e-mail no contact has is matched by) and e-mails, each with "" for none."""
    names = [f"Gamma {k}", f"Delta {k}", f"Omega {k}", ""]
    websites = [f"w0-{k}.example", f"https://www.w1-{k}.example/", f"m{k}.example", ""]
    emails = [f"a@m{k}.example", f"B@m{k}.example ", f"c@m{k}.example", ""]
    return names, websites, emails


def _expected(conn, made: set, row: tuple[str, str, str]) -> tuple:
    """What the rules say of a row (its e-mail, website and name cells): ("added", account,
    contact), ("shared", its column, how many accounts share the key) or ("none",)."""
    email, website, name = row
    a, c = accounts.c, contacts.c
    live = {
        i
        for i, deleted in conn.execute(select(a.id, a.deleted_at))
        if i in made and deleted is None
    }
    if key := email_key(email):
        found = conn.execute(
            select(c.account_id, c.id)
            .where(c.email_key == key, c.deleted_at.is_(None))
            .order_by(c.created_at, c.id)
        ).all()
        holders = list(dict.fromkeys(account for account, _ in found if account in live))
        contact = next((i for account, i in found if account in live), None)
        if holders:
            return ("added", holders[0], contact) if len(holders) == 1 else (
                "shared", "Email", len(holders))  # fmt: skip
    ways = [("Website" if website else "Email", a.domain_key,
             normalize_domain(website) or normalize_domain(email)),
            ("Company", a.name_key, normalize_name(name))]  # fmt: skip
    for column, stored, key in ways:
        if not key:
            continue
        holders = [i for (i,) in conn.execute(select(a.id).where(stored == key)) if i in live]
        if holders:
            return ("added", holders[0], None) if len(holders) == 1 else (
                "shared", column, len(holders))  # fmt: skip
    return ("none",)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    made=st.lists(st.tuples(_NAME, _WEBSITE, st.booleans()), min_size=1, max_size=6),
    people_of=st.lists(st.tuples(st.integers(0, 5), _EMAIL, st.booleans()), max_size=6),
    rows=st.lists(st.tuples(_EMAIL, _WEBSITE, _NAME), min_size=1, max_size=10),
    chunk=st.integers(1, 4),
)
# two accounts with the e-mails' domain as their website; the one with a contact deleted
@example(made=[(0, 2, False), (1, 2, True)], people_of=[(0, 0, True), (1, 1, False)],
         rows=[(0, 3, 3), (1, 3, 1), (0, 3, 3)], chunk=1)  # fmt: skip
def test_each_row_is_matched_as_the_rules_say(
    workspace, people, tmp_path, monkeypatch, made, people_of, rows, chunk
):
    monkeypatch.setattr(importer, "CHUNK", chunk)
    uow, owner, k = SqlUnitOfWork(workspace), people[Role.OWNER], next(_EXAMPLES)
    names, websites, emails = _universe(k)
    created = []
    for name, website, _ in made:
        # a legal form alone is a name with nothing to match: a row with no name is not it
        values = {"name": names[name] or "GmbH", "website": websites[website] or None}
        created.append(create_account(uow, owner, values))
    for n, (account, email, deleted) in enumerate(people_of):
        contact = add_contact(uow, owner, created[account % len(created)].id,
                              {"name": f"Person {n}", "email": emails[email] or None})  # fmt: skip
        if deleted:
            delete_contact(uow, owner, contact)
    for account, (_, _, deleted) in zip(created, made, strict=True):
        if deleted:
            delete_account(uow, owner, account)
    cells = [(emails[e], websites[w], names[n] or ("" if emails[e] or websites[w] else "x"))
             for e, w, n in rows]  # fmt: skip
    lines = [f'"{e}","{w}","{n}",Webinar,{(_START + timedelta(hours=i)):%Y-%m-%d %H:%M} UTC,,,\n'
             for i, (e, w, n) in enumerate(cells)]  # fmt: skip
    summary = _import(workspace, owner, _csv(tmp_path, "".join(lines)))

    with workspace.read() as conn:
        ids = {account.id for account in created}
        expected = [_expected(conn, ids, row) for row in cells]
        e = engagements.c
        stored = conn.execute(
            select(e.at, e.account_id, e.contact_id).where(e.import_batch_id == summary.batch_id)
        ).all()
    added = {_utc(at): ("added", account, contact) for at, account, contact in stored}
    rejected = {error.row: error for error in summary.errors}
    for i, want in enumerate(expected):
        row = i + 2  # the file's row number, under its header
        if want[0] == "added":
            assert added.get(_START + timedelta(hours=i)) == want, row
            continue
        error = rejected[row]
        if want[0] == "none":
            assert (error.column, error.reason) == ("Email", NOT_FOUND), row
        else:
            _, column, sharing = want
            assert error.column == column, row
            assert error.reason.startswith(f"{sharing:,} accounts have this "), row
    assert summary.created == len(added) == sum(want[0] == "added" for want in expected)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_keys_with_formulas_markup_control_characters_and_hangul_are_matched_as_typed(
    workspace, people, tmp_path
):
    """Keys go to the database bound as data (a JSON array on SQLite, an array on
    PostgreSQL), never as SQL: a formula, markup, control characters and Hangul are matched
    as they are, and a row they do not match is listed with its cells as typed."""
    uow, owner = SqlUnitOfWork(workspace), people[Role.OWNER]
    account = create_account(
        uow, owner, {"name": '=HYPERLINK("x") <b>한국</b>', "website": "한국.kr"}
    )
    add_contact(uow, owner, account.id, {"name": "Kim", "email": "김@한국.kr"})
    body = (
        '"김@한국.kr",,,Webinar,2025-03-01,,,\n'
        ',,"=HYPERLINK(""x"") <b>한국</b>",Webinar,2025-03-02,,,\n'
        '"a\x01b@x.com",,"\x07<b>",Webinar,2025-03-03,,,\n'
        ',"\x01.com","\u202e=1+1",Webinar,2025-03-04,,,\n'
    )
    summary = _import(workspace, owner, _csv(tmp_path, body))
    assert (summary.created, summary.added_by) == (2, {"email": 1, "account": 1})
    assert [e.row for e in summary.errors] == [4, 5]
    assert [cells[1:4] for cells in summary.rejected_cells] == [
        ["a\x01b@x.com", "", "\x07<b>"],
        ["", "\x01.com", "\u202e=1+1"],
    ]
