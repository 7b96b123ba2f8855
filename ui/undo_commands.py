"""Edit › Undo and Redo of the changes made on accounts from the main window."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QUndoCommand

from domain.accounts import Account, delete_account, restore_account, revert_account_edit
from storage.repositories import SqlUnitOfWork
from ui.window_api import WindowApi


class _AlreadyDone(QUndoCommand):
    """A change made before its command is pushed: the push's redo skips it, later redos
    make it again."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.pushed = False

    def redo(self) -> None:
        if self.pushed:
            self.again()
        self.pushed = True

    def again(self) -> None:
        raise NotImplementedError


class DeleteAccount(_AlreadyDone):
    """A delete that Edit › Undo takes back (the account is a tombstone until then)."""

    def __init__(self, window: WindowApi, account_id: Any, name: str) -> None:
        super().__init__(f"delete {name}")
        self.window, self.account_id = window, account_id

    def again(self) -> None:
        self.delete()

    def undo(self) -> None:
        self.restore()

    def delete(self) -> None:
        with SqlUnitOfWork.reading(self.window.workspace) as uow:
            account = uow.accounts.get(self.account_id)
        if account is not None:
            self.window.act(
                lambda: delete_account(
                    SqlUnitOfWork(self.window.workspace), self.window.user, account
                )
            )

    def restore(self) -> None:
        self.window.act(
            lambda: restore_account(
                SqlUnitOfWork(self.window.workspace), self.window.user, self.account_id
            )
        )


class CreateAccount(DeleteAccount):
    """A new account that Edit › Undo deletes again."""

    def __init__(self, window: WindowApi, account_id: Any, name: str) -> None:
        super().__init__(window, account_id, name)
        self.setText(f"create {name}")

    def again(self) -> None:
        self.restore()

    def undo(self) -> None:
        self.delete()


class EditAccount(_AlreadyDone):
    """A saved edit of an account's fields that Edit › Undo takes back."""

    def __init__(self, window: WindowApi, before: Account, after: Account) -> None:
        super().__init__(f"edit {after.name}")
        self.window, self.before, self.after = window, before, after

    def again(self) -> None:
        self._revert(self.after, self.before)

    def undo(self) -> None:
        self._revert(self.before, self.after)

    def _revert(self, edited_from: Account, edited_to: Account) -> None:
        uow = SqlUnitOfWork(self.window.workspace)
        self.window.act(lambda: revert_account_edit(uow, self.window.user, edited_from, edited_to))
