"""Accounts and contacts, and the use cases that change them one at a time.

Bulk paths (import, export, lists) live in storage; these are the single edits a person
makes in a dialog. Every use case checks the user's role first and records who changed
what through the unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from uuid import UUID, uuid4

from domain.errors import AccordError, NotFound, ValidationError
from domain.fields import ACCOUNT_FIELDS, CONTACT_FIELDS, Field, custom_fields
from domain.users import Action, User


@dataclass(frozen=True)
class Account:
    name: str
    website: str | None = None
    industry: str | None = None
    employees: int | None = None
    annual_revenue: int | None = None
    country: str | None = None
    region: str | None = None
    city: str | None = None
    phone: str | None = None
    founded_year: int | None = None
    address: str | None = None
    postal_code: str | None = None
    description: str | None = None
    tags: str | None = None
    source: str | None = None
    custom: dict[str, str] = field(default_factory=dict)
    id: UUID = field(default_factory=uuid4)
    #: The version that was loaded; saving fails if the stored one moved on.
    version: int = 0


@dataclass(frozen=True)
class Contact:
    account_id: UUID
    name: str
    title: str | None = None
    email: str | None = None
    phone: str | None = None
    decision_maker: bool = False
    id: UUID = field(default_factory=uuid4)
    version: int = 0


class AccountRepository(Protocol):
    def get(self, account_id: UUID) -> Account | None: ...
    def add(self, account: Account, user: User) -> Account: ...
    def save(self, account: Account, user: User) -> Account: ...
    def delete(self, account_id: UUID, version: int, user: User) -> None: ...
    def restore(self, account_id: UUID, user: User) -> None: ...


class ContactRepository(Protocol):
    def get(self, contact_id: UUID) -> Contact | None: ...
    def for_account(self, account_id: UUID) -> list[Contact]: ...
    def add(self, contact: Contact, user: User) -> Contact: ...
    def save(self, contact: Contact, user: User) -> Contact: ...
    def delete(self, contact_id: UUID, version: int, user: User) -> None: ...


class UnitOfWork(Protocol):
    """One transaction: everything done through it is committed together or not at all."""

    accounts: AccountRepository
    contacts: ContactRepository

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...


def _validated(values: dict[str, Any], fields: tuple[Field, ...]) -> dict[str, Any]:
    """Parse typed-in texts by each field's rules; collect every problem before raising."""
    problems: dict[str, str] = {}
    parsed: dict[str, Any] = {}
    for f in fields:
        if f.name not in values:
            continue
        raw = values[f.name]
        try:
            parsed[f.name] = f.parse(raw) if isinstance(raw, str) else raw
        except ValueError as exc:
            problems[f.name] = str(exc)
        if f.required and parsed.get(f.name) in (None, ""):
            problems[f.name] = f"{f.label} is required"
    if problems:
        raise ValidationError(problems)
    return parsed


_CONTACT_EDIT_FIELDS = tuple(f for f in CONTACT_FIELDS if f.name != "account")


def create_account(uow: UnitOfWork, user: User, values: dict[str, Any]) -> Account:
    """Create an account from typed-in values (texts are parsed like imported cells)."""
    user.require(Action.EDIT_ACCOUNTS)
    parsed = _validated({"name": "", **values}, ACCOUNT_FIELDS)
    account = Account(**parsed, custom=custom_fields(values.get("custom", {})))
    with uow:
        account = uow.accounts.add(account, user)
        uow.commit()
    return account


def update_account(uow: UnitOfWork, user: User, loaded: Account, values: dict[str, Any]) -> Account:
    """Save edits made to ``loaded``; raises ConcurrentEditError if someone saved in between."""
    user.require(Action.EDIT_ACCOUNTS)
    parsed = _validated(values, ACCOUNT_FIELDS)
    if "custom" in values:
        parsed["custom"] = custom_fields(values["custom"])
    with uow:
        saved = uow.accounts.save(replace(loaded, **parsed), user)
        uow.commit()
    return saved


#: What an edit of an account can change, and what each is called on screen.
_EDITABLE = {f.name: f.label for f in ACCOUNT_FIELDS} | {"custom": "Custom fields"}


def changed_fields(before: Account, after: Account) -> list[str]:
    return [name for name in _EDITABLE if getattr(before, name) != getattr(after, name)]


def revert_account_edit(
    uow: UnitOfWork, user: User, edited_from: Account, edited_to: Account
) -> Account:
    """Take back one saved edit (or, given the other way round, make it again): the fields
    it changed go back to their values in ``edited_from``, as long as nobody changed them
    again since; fields it did not change keep whatever they hold now."""
    user.require(Action.EDIT_ACCOUNTS)
    names = changed_fields(edited_from, edited_to)
    with uow:
        current = uow.accounts.get(edited_to.id)
        if current is None:
            raise NotFound(f"{edited_to.name} was deleted meanwhile.")
        if moved := [_EDITABLE[n] for n in names if getattr(current, n) != getattr(edited_to, n)]:
            raise AccordError(
                f"{current.name}: {', '.join(moved)} changed again since, so this edit "
                "is left as it is."
            )
        saved = uow.accounts.save(
            replace(current, **{n: getattr(edited_from, n) for n in names}), user
        )
        uow.commit()
    return saved


def delete_account(uow: UnitOfWork, user: User, loaded: Account) -> None:
    """Delete an account (a tombstone: it can be restored, and sync carries it)."""
    user.require(Action.EDIT_ACCOUNTS)
    with uow:
        uow.accounts.delete(loaded.id, loaded.version, user)
        uow.commit()


def restore_account(uow: UnitOfWork, user: User, account_id: UUID) -> None:
    user.require(Action.EDIT_ACCOUNTS)
    with uow:
        uow.accounts.restore(account_id, user)
        uow.commit()


def add_contact(uow: UnitOfWork, user: User, account_id: UUID, values: dict[str, Any]) -> Contact:
    user.require(Action.EDIT_ACCOUNTS)
    parsed = _validated({"name": "", **values}, _CONTACT_EDIT_FIELDS)
    contact = Contact(account_id=account_id, **parsed)
    with uow:
        if uow.accounts.get(account_id) is None:
            raise NotFound("The account no longer exists.")
        contact = uow.contacts.add(contact, user)
        uow.commit()
    return contact


def update_contact(uow: UnitOfWork, user: User, loaded: Contact, values: dict[str, Any]) -> Contact:
    user.require(Action.EDIT_ACCOUNTS)
    parsed = _validated(values, _CONTACT_EDIT_FIELDS)
    with uow:
        saved = uow.contacts.save(replace(loaded, **parsed), user)
        uow.commit()
    return saved


def delete_contact(uow: UnitOfWork, user: User, loaded: Contact) -> None:
    user.require(Action.EDIT_ACCOUNTS)
    with uow:
        uow.contacts.delete(loaded.id, loaded.version, user)
        uow.commit()
