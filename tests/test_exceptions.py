"""Exceptions to the target list, granted, listed and revoked: on the command line and in
the window."""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import closing

from main import main


def _workspace(tmp_path) -> str:  # type: ignore[no-untyped-def]
    """A workspace with a rep and one account, off the target list."""
    db = str(tmp_path / "w.sqlite")
    listing = tmp_path / "list.csv"
    listing.write_text("Company name,Website\nElsewhere Ltd,https://elsewhere.example/\n",
                       encoding="utf-8")  # fmt: skip
    assert main(["--db", db, "--user", "Olivia Owner", "import", "accounts", str(listing)]) == 0
    assert main(["--db", db, "--user", "Olivia Owner", "users", "--add", "Rita Rep"]) == 0
    return db


def test_exceptions_are_granted_listed_and_revoked_on_the_command_line(tmp_path, capsys):
    db = _workspace(tmp_path)

    def run(*args: str, user: str = "Olivia Owner") -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["--db", db, "--user", user, "exceptions", *args])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = run("grant", "--rep", "Rita Rep", "--account", "elsewhere.example",
                       "--reason", "Met them at the trade fair")  # fmt: skip
    assert (code, out) == (0, "Rita Rep may now log calls and visits against Elsewhere Ltd.\n")
    code, out, _ = run("list")
    assert out.startswith("Rita Rep\tElsewhere Ltd\tMet them at the trade fair\tgranted by "
                          "Olivia Owner 20")  # fmt: skip
    code, _, err = run("grant", "--rep", "Rita Rep", "--account", "Elsewhere Ltd",
                       "--reason", "again", user="Rita Rep")  # fmt: skip
    assert code == 1 and "Rita Rep (rep) may not grant exceptions to the target list" in err
    code, out, _ = run("revoke", "--rep", "Rita Rep", "--account", "elsewhere ltd")
    assert out == "Rita Rep may no longer log against Elsewhere Ltd: the exception is revoked.\n"
    assert run("list")[1] == "No exception to the target list is in force.\n"
    assert "\trevoked by Olivia Owner 20" in run("list", "--revoked")[1]
    code, _, err = run("revoke", "--rep", "Rita Rep", "--account", "Elsewhere Ltd")
    assert code == 1 and "Rita Rep has no exception for Elsewhere Ltd to revoke." in err


def test_a_grant_needs_a_reason_and_a_known_account(tmp_path, capsys):
    db = _workspace(tmp_path)
    grant = ["--db", db, "--user", "Olivia Owner", "exceptions", "grant", "--rep", "Rita Rep"]
    assert main([*grant, "--account", "Elsewhere Ltd"]) == 1
    assert "say why the rep may log outside the target list" in capsys.readouterr().err
    assert main([*grant, "--account", "Nowhere Inc", "--reason", "x"]) == 1
    assert "No account has the id, name or website 'Nowhere Inc'." in capsys.readouterr().err
    with closing(sqlite3.connect(db)) as conn:
        [(account_id,)] = conn.execute("SELECT id FROM accounts").fetchall()
    account_id = str(uuid.UUID(bytes=account_id) if isinstance(account_id, bytes) else account_id)
    assert main([*grant, "--account", account_id, "--reason", "Referred by a customer"]) == 0
    assert "against Elsewhere Ltd." in capsys.readouterr().out
