"""Repositories and the unit of work that the domain's use cases talk to: single edits,
and the target list's actions on a selection."""

from __future__ import annotations

from dataclasses import fields
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from domain.accounts import Account, AccountRepository, Contact, ContactRepository
from domain.errors import ConcurrentEditError, NotFound
from domain.interactions import InteractionStore
from domain.targets import TargetRepository
from domain.users import User
from domain.values import phone_e164
from storage.icps import rescore_with_active
from storage.interactions import SqlInteractions
from storage.keys import derived_columns, email_key
from storage.queue_facts import refresh_queue_facts
from storage.schema import AccountRow, ChangeRow, ContactRow, Tracked, utcnow
from storage.sla_facts import refresh_sla_facts
from storage.targets import SqlTargets
from storage.workspace import Workspace

_ACCOUNT_FIELDS = [f.name for f in fields(Account) if f.name not in ("id", "version")]
_CONTACT_FIELDS = [f.name for f in fields(Contact) if f.name not in ("id", "version")]


def account_from_row(row: AccountRow) -> Account:
    values = {name: getattr(row, name) for name in _ACCOUNT_FIELDS}
    values["custom"] = dict(row.custom or {})
    return Account(id=row.id, version=row.version, **values)


def contact_from_row(row: ContactRow) -> Contact:
    values = {name: getattr(row, name) for name in _CONTACT_FIELDS}
    return Contact(id=row.id, version=row.version, **values)


def _log(session: Session, user: User, row: Tracked, table: str, action: str, details: Any) -> None:
    session.add(
        ChangeRow(
            user_name=user.name, table_name=table, record_id=row.id, action=action, details=details
        )
    )


def _changed(row: Tracked, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Field → [before, after] for the values that differ."""
    return {k: [getattr(row, k), v] for k, v in values.items() if getattr(row, k) != v}


def _live(session: Session, model: type[Tracked], record_id: UUID, version: int, what: str) -> Any:
    row = session.get(model, record_id)
    if row is None or row.deleted_at is not None:
        raise NotFound(f"{what} no longer exists — someone deleted it.")
    if row.version != version:
        raise ConcurrentEditError(what)
    return row


def _touch(row: Tracked, user: User) -> None:
    row.updated_at = utcnow()
    row.changed_by = user.name


class SqlAccounts:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, account_id: UUID) -> Account | None:
        row = self.session.get(AccountRow, account_id)
        return None if row is None or row.deleted_at else account_from_row(row)

    def add(self, account: Account, user: User) -> Account:
        values = {name: getattr(account, name) for name in _ACCOUNT_FIELDS}
        values["custom"] = values["custom"] or None
        row = AccountRow(id=account.id, changed_by=user.name, **values, **derived_columns(values))
        self.session.add(row)
        _log(self.session, user, row, "accounts", "create", {"name": account.name})
        self.session.flush()
        _rescore(self.session, row.id)
        return account_from_row(row)

    def save(self, account: Account, user: User) -> Account:
        row = _live(self.session, AccountRow, account.id, account.version, "This account")
        values = {name: getattr(account, name) for name in _ACCOUNT_FIELDS}
        values["custom"] = values["custom"] or None
        changes = _changed(row, values)
        if not changes:
            return account
        for key, value in {**values, **derived_columns(values)}.items():
            setattr(row, key, value)
        _touch(row, user)
        _log(self.session, user, row, "accounts", "update", _jsonable(changes))
        _flush(self.session, "This account")
        _rescore(self.session, row.id)
        return account_from_row(row)

    def delete(self, account_id: UUID, version: int, user: User) -> None:
        row = _live(self.session, AccountRow, account_id, version, "This account")
        row.deleted_at = utcnow()
        _touch(row, user)
        _log(self.session, user, row, "accounts", "delete", None)
        _flush(self.session, "This account")
        refresh_sla_facts(self.session.connection(), [account_id])
        refresh_queue_facts(self.session.connection(), [account_id])

    def restore(self, account_id: UUID, user: User) -> None:
        row = self.session.get(AccountRow, account_id)
        if row is None:
            raise NotFound("This account does not exist.")
        row.deleted_at = None
        _touch(row, user)
        _log(self.session, user, row, "accounts", "restore", None)
        self.session.flush()
        _rescore(self.session, row.id)
        refresh_sla_facts(self.session.connection(), [account_id])
        refresh_queue_facts(self.session.connection(), [account_id])


class SqlContacts:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, contact_id: UUID) -> Contact | None:
        row = self.session.get(ContactRow, contact_id)
        return None if row is None or row.deleted_at else contact_from_row(row)

    def for_account(self, account_id: UUID) -> list[Contact]:
        rows = self.session.scalars(
            select(ContactRow)
            .where(ContactRow.account_id == account_id, ContactRow.deleted_at.is_(None))
            .order_by(ContactRow.name)
        )
        return [contact_from_row(r) for r in rows]

    def add(self, contact: Contact, user: User) -> Contact:
        values = {name: getattr(contact, name) for name in _CONTACT_FIELDS}
        row = ContactRow(id=contact.id, changed_by=user.name, **values)
        self._derive(row)
        self.session.add(row)
        _log(self.session, user, row, "contacts", "create", {"name": contact.name})
        self.session.flush()
        _rescore(self.session, row.account_id)
        return contact_from_row(row)

    def save(self, contact: Contact, user: User) -> Contact:
        row = _live(self.session, ContactRow, contact.id, contact.version, "This contact")
        values = {name: getattr(contact, name) for name in _CONTACT_FIELDS}
        changes = _changed(row, values)
        if not changes:
            return contact
        for key, value in values.items():
            setattr(row, key, value)
        self._derive(row)
        _touch(row, user)
        _log(self.session, user, row, "contacts", "update", _jsonable(changes))
        _flush(self.session, "This contact")
        _rescore(self.session, row.account_id)
        return contact_from_row(row)

    def _derive(self, row: ContactRow) -> None:
        """The contact's derived columns: its phone in E.164 (read in its account's
        country) and its e-mail's key."""
        account = self.session.get(AccountRow, row.account_id)
        row.phone_e164 = phone_e164(row.phone, account.country_code if account else None)
        row.email_key = email_key(row.email)

    def delete(self, contact_id: UUID, version: int, user: User) -> None:
        row = _live(self.session, ContactRow, contact_id, version, "This contact")
        row.deleted_at = utcnow()
        _touch(row, user)
        _log(self.session, user, row, "contacts", "delete", None)
        _flush(self.session, "This contact")
        _rescore(self.session, row.account_id)


def _rescore(session: Session, account_id: UUID) -> None:
    """Keep the account's score under the active ICP in step with the edit."""
    rescore_with_active(session.connection(), AccountRow.id == account_id)


def _flush(session: Session, what: str) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise ConcurrentEditError(what) from None


def _jsonable(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    return {
        k: [v if isinstance(v, (str, int, float, bool, dict, type(None))) else str(v) for v in pair]
        for k, pair in changes.items()
    }


class SqlUnitOfWork:
    """A session-backed unit of work; leaving it without ``commit()`` rolls back."""

    accounts: AccountRepository
    contacts: ContactRepository
    targets: TargetRepository
    interactions: InteractionStore

    def __init__(self, workspace: Workspace, *, read_only: bool = False) -> None:
        self.workspace = workspace
        self.read_only = read_only

    @classmethod
    def reading(cls, workspace: Workspace) -> SqlUnitOfWork:
        """One that only shows data: it never waits for someone else's write."""
        return cls(workspace, read_only=True)

    def __enter__(self) -> SqlUnitOfWork:
        self.session = self.workspace.read_session() if self.read_only else self.workspace.session()
        self.accounts = SqlAccounts(self.session)
        self.contacts = SqlContacts(self.session)
        self.targets = SqlTargets(self.session)
        self.interactions = SqlInteractions(self.session, self.contacts)
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        try:
            self.session.commit()
        except StaleDataError:
            raise ConcurrentEditError("This record") from None
