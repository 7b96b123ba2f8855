"""The command-line contract: output, rejected rows on stderr, exit codes."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from main import main


def test_import_prints_a_summary_and_rejected_rows(tmp_path, capsys):
    db = str(tmp_path / "w.sqlite")
    path = tmp_path / "list.csv"
    path.write_text("Company name,Number of Employees\nAcme,51-200\n,lots\n", encoding="utf-8")
    rejects = tmp_path / "fix.csv"
    code = main(["--db", db, "--user", "Ann", "import", "accounts", str(path),
                 "--rejects", str(rejects)])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0
    assert "1 created, 0 updated, 0 duplicates skipped, 1 rejected" in out and "batch id:" in out
    assert "list.csv: row 3, column 'Company name': Account Name is empty" in err
    assert "Employee bands are stored as their lower bound, the fewest employees the " in out
    assert "company has: '51-200' as 51." in out
    assert ",lots,3,Company name" in rejects.read_text(encoding="utf-8-sig")


def test_a_command_leaves_everything_in_the_workspace_file_itself(tmp_path):
    """A user may copy or mail the file right after a command: nothing is left behind in
    a write-ahead log beside it."""
    db = tmp_path / "w.sqlite"
    path = tmp_path / "list.csv"
    path.write_text("Company name\nAcme\nBolt\n", encoding="utf-8")
    main_py = Path(__file__).resolve().parent.parent / "main.py"
    command = [sys.executable, str(main_py), "--db", str(db), "--user", "Ann",
               "import", "accounts", str(path)]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, cwd=tmp_path)
    assert not db.with_name("w.sqlite-wal").exists()
    with closing(sqlite3.connect(f"file:{db}?immutable=1", uri=True)) as conn:
        assert conn.execute("SELECT count(*) FROM accounts").fetchone() == (2,)


def test_a_command_whose_reader_has_gone_ends_quietly(tmp_path):
    """`accord plan show | head`: the reader stops reading; no traceback, as Unix tools."""
    db = tmp_path / "w.sqlite"
    path = tmp_path / "list.csv"
    path.write_text("Company name\nAcme\n", encoding="utf-8")
    main_py = Path(__file__).resolve().parent.parent / "main.py"
    accord = [sys.executable, str(main_py), "--db", str(db), "--user", "Ann"]
    subprocess.run([*accord, "import", "accounts", str(path)], check=True, capture_output=True)
    for command in (["plan", "show"], ["goal", "show"]):
        shown = subprocess.Popen([*accord, *command], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)  # fmt: skip
        assert shown.stdout is not None and shown.stderr is not None
        shown.stdout.close()  # gone before the first line
        with shown.stderr:
            said = shown.stderr.read().decode()
        assert shown.wait() == 1
        assert "Traceback" not in said and "BrokenPipe" not in said, command


def test_a_refused_file_exits_non_zero_and_changes_nothing(tmp_path, capsys):
    db = str(tmp_path / "w.sqlite")
    path = tmp_path / "list.csv"
    path.write_text("Company name,City\nAcme,Berlin\nBeta,\n", encoding="utf-8")
    code = main(["--db", db, "--user", "Ann", "import", "accounts", str(path), "--strict"])
    assert code == 0  # every row is fine: --strict has nothing to refuse
    path.write_text('Company name,City\n"Gamma,Rome\n', encoding="utf-8")
    assert main(["--db", db, "import", "accounts", str(path)]) == 1
    assert "line 2" in capsys.readouterr().err
    assert main(["--db", db, "export", "accounts", str(tmp_path / "out.csv")]) == 0
    assert (tmp_path / "out.csv").read_text(encoding="utf-8-sig").count("\n") == 3


def test_undo_import_from_the_command_line(tmp_path, capsys):
    db = str(tmp_path / "w.sqlite")
    path = tmp_path / "list.csv"
    path.write_text("Company name\nAcme\n", encoding="utf-8")
    main(["--db", db, "--user", "Ann", "import", "accounts", str(path)])
    batch = capsys.readouterr().out.split("batch id: ")[1].strip()
    assert main(["--db", db, "undo-import", batch]) == 0
    assert "1 record removed" in capsys.readouterr().out
    assert main(["--db", db, "undo-import", "not-a-batch"]) == 1


def test_the_icp_and_target_list_commands_work_on_the_demo(tmp_path, capsys):
    db = str(tmp_path / "w.sqlite")

    def run(*args: str, user: str = "Olivia Owner") -> int:
        return main(["--db", db, "--user", user, *args])

    assert run("demo", "--accounts", "400") == 0
    assert run("icp", "export", str(tmp_path / "icp.json")) == 0
    document = json.loads((tmp_path / "icp.json").read_text(encoding="utf-8"))
    document["tiers"] = {"A": 90, "B": 80}
    (tmp_path / "strict.json").write_text(json.dumps(document), encoding="utf-8")
    assert run("icp", "import", str(tmp_path / "strict.json"), "--name", "Strict") == 0
    assert run("icp", "apply", "--name", "Strict") == 0
    assert run("targets", "build", "--tiers", "C") == 0  # the active ICP is now "Strict"
    assert run("targets", "assign", "--round-robin", "Sam Rivera,Jordan Lee") == 0
    out = capsys.readouterr().out
    assert "Saved Strict v1" in out and "Scored 400 accounts with Strict v1" in out
    assert "to the target list from Strict v1." in out
    fallen = r"\n[1-9][\d,]* accounts? on the target list (is|are) no longer in tier C under "
    assert re.search(fallen + r"Strict v1\. They stay on it: remove them in the window", out)
    assert run("export", "targets", str(tmp_path / "t.csv")) == 0
    with (tmp_path / "t.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert rows and {r["Owner"] for r in rows} == {"Sam Rivera", "Jordan Lee"}
    assert all(r["Why"] for r in rows)


def test_a_rep_cannot_change_the_icp_or_the_list_from_the_command_line(tmp_path, capsys):
    db = str(tmp_path / "w.sqlite")
    main(["--db", db, "--user", "Olivia Owner", "demo", "--accounts", "50"])
    assert main(["--db", db, "--user", "Sam Rivera", "icp", "apply"]) == 1
    assert main(["--db", db, "--user", "Sam Rivera", "targets", "build"]) == 1
    assert "Sam Rivera (rep) may not" in capsys.readouterr().err


def test_a_bad_icp_file_is_refused_with_the_criterion_named(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text('{"format": "accord-icp", "name": "X", "criteria": '
                    '[{"field": "employees", "operator": "around", "values": [3]}]}')  # fmt: skip
    assert main(["--db", str(tmp_path / "w.sqlite"), "icp", "import", str(path)]) == 1
    assert "bad.json: criterion 1: unknown operator 'around'" in capsys.readouterr().err


def test_a_workspace_that_cannot_be_opened_is_said_in_one_line(tmp_path, capsys):
    listing = tmp_path / "list.csv"
    listing.write_text("Company name\nAcme\n", encoding="utf-8")
    wrong = {
        str(listing): "list.csv: file is not a database",
        str(tmp_path): "unable to open database file",
        "postgresql+psycopg://ann:secret@127.0.0.1:1/team": "ann:***@127.0.0.1:1/team",
        "mysql://host/db": "a SQLite file or a PostgreSQL database",
        str(tmp_path / "typo" / "w.sqlite"): "There is no workspace at",
    }
    for db, said in wrong.items():
        out = str(tmp_path / "o.csv")
        assert main(["--db", db, "--user", "Ann", "export", "accounts", out]) == 1
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err and "secret" not in err
    assert listing.read_text(encoding="utf-8") == "Company name\nAcme\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["list.csv"]


def test_a_wrong_word_on_the_command_line_is_answered_with_the_right_ones(tmp_path, capsys):
    db = str(tmp_path / "w.sqlite")
    wrong = [
        (["import", "acounts", "x.csv"],
         "accord import: error: 'acounts' is not something accord import does: use accounts, "
         "contacts or engagement."),
        (["import", "accounts", "x.csv", "--on-duplicate", "merge"],
         "accord import accounts: error: --on-duplicate cannot be 'merge': use skip, fill or "
         "overwrite."),
        (["users", "--add", "Rita", "--role", "boss"],
         "accord users: error: --role cannot be 'boss': use owner, marketing or rep."),
    ]  # fmt: skip
    for args, said in wrong:
        with pytest.raises(SystemExit) as exit_:
            main(["--db", db, *args])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert err.endswith(said + "\n") and "invalid choice" not in err


def test_scale_multiplies_a_column_of_amounts_in_millions(tmp_path, capsys):
    """The Fortune list gives its revenues in millions."""
    db = str(tmp_path / "w.sqlite")
    path = tmp_path / "fortune.csv"
    path.write_text('Name,Revenue\nWalmart,"648,125"\nYangquan Coal,22.1\n', encoding="utf-8")
    code = main(["--db", db, "--user", "Ann", "import", "accounts", str(path),
                 "--scale", "revenue=1,000,000"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    with closing(sqlite3.connect(db)) as conn:
        stored = dict(conn.execute("SELECT name, annual_revenue FROM accounts").fetchall())
    assert stored == {"Walmart": 648_125_000_000, "Yangquan Coal": 22_100_000}


@pytest.mark.parametrize(
    ("scale", "said"),
    [
        ("Revenue=7", "'Revenue' is to be multiplied by 7: a column's amounts can be "
                      "multiplied by 1,000 or 1,000,000."),
        ("Name=1000", "'Name' is to be multiplied by 1,000, but it is imported as Account "
                      "Name: only an amount can be multiplied."),
        ("Turnover=1000", "A scale is given for 'Turnover', which the file has no column for."),
    ],
)  # fmt: skip
def test_a_scale_the_file_cannot_take_is_refused(tmp_path, capsys, scale, said):
    db = str(tmp_path / "w.sqlite")
    path = tmp_path / "fortune.csv"
    path.write_text("Name,Revenue\nWalmart,648125\n", encoding="utf-8")
    code = main(["--db", db, "--user", "Ann", "import", "accounts", str(path),
                 "--scale", scale])  # fmt: skip
    assert code == 1
    assert said in capsys.readouterr().err


def test_a_scale_is_a_column_and_a_factor(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--db", str(tmp_path / "w.sqlite"), "import", "accounts", "x.csv",
              "--scale", "Revenue"])  # fmt: skip
    assert "'Revenue' is not a column and a factor" in capsys.readouterr().err


def test_engagement_is_imported_from_the_command_line(tmp_path, capsys):
    db = str(tmp_path / "w.sqlite")
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("Company name,Website\nAcme,acme.com\n", encoding="utf-8")
    assert main(["--db", db, "--user", "Ann", "import", "accounts", str(accounts)]) == 0
    path = tmp_path / "zoom.csv"
    rows = "ann@acme.com,2025-03-01 10:00\nbo@else.example,2025-03-01 10:05\n"
    path.write_text("Email,Join Time\n" + rows, encoding="utf-8")
    rejects = tmp_path / "fix.csv"
    capsys.readouterr()
    code = main(["--db", db, "import", "engagement", str(path), "--kind", "Webinar",
                 "--campaign", "Spring webinar", "--rejects", str(rejects)])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0
    assert "Mapping: Email -> Contact Email, Join Time -> Date; ignored: none" in out
    assert ("zoom.csv: 1 engagement added (1 by website domain), 1 rejected (1 matching no "
            "account) (batch ") in out  # fmt: skip
    assert "zoom.csv: row 3, column 'Email': no account has this contact e-mail" in err
    assert "bo@else.example,2025-03-01 10:05,3,Email," in rejects.read_text(encoding="utf-8-sig")
    with pytest.raises(SystemExit) as usage:
        main(["--db", db, "import", "engagement", str(path), "--kind", "Sent"])
    assert usage.value.code == 2
    assert "'Sent' is not a kind of engagement Accord knows" in capsys.readouterr().err


def test_checkout_takes_a_rep_s_copy_and_says_what_it_holds(tmp_path, capsys):
    team, copy = str(tmp_path / "team.sqlite"), tmp_path / "laptop" / "mine.sqlite"
    assert main(["--db", team, "--user", "Alex Morgan", "demo", "--accounts", "200"]) == 0
    capsys.readouterr()
    code = main(["--user", "Sam Rivera", "checkout", "--from", team, "--to", str(copy)])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert out.startswith(f"Copied Sam Rivera's accounts from {team} to {copy} (")
    assert f"sync it with accord --db {copy} sync." in out
    assert main(["--user", "Sam Rivera", "checkout", "--from", team, "--to", str(copy),
                 "--rep", "Jordan Lee"]) == 1  # fmt: skip
    assert "may take a copy of their own accounts only" in capsys.readouterr().err


def _set_title(db: Path, contact: str, title: str, author: str) -> None:
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE contacts SET title = ?, changed_by = ? WHERE id = ?",
                     (title, author, contact))  # fmt: skip


def test_sync_and_conflicts_from_the_command_line(tmp_path, capsys):
    team, copy = tmp_path / "team.sqlite", tmp_path / "laptop" / "mine.sqlite"
    assert main(["--db", str(team), "--user", "Alex Morgan", "demo", "--accounts", "200"]) == 0
    assert main(["--user", "Sam Rivera", "checkout", "--from", str(team), "--to", str(copy)]) == 0
    capsys.readouterr()
    assert main(["--db", str(copy), "sync"]) == 0
    out = capsys.readouterr().out
    assert out == (f"Synced {copy} with {team}. Nothing to sync: this copy and the other side "
                   "were already in step.\n")  # fmt: skip
    with closing(sqlite3.connect(copy)) as conn:
        contact = conn.execute("SELECT id FROM contacts ORDER BY id LIMIT 1").fetchone()[0]
    _set_title(copy, contact, "Head of Buying", "Sam Rivera")
    _set_title(team, contact, "CFO", "Alex Morgan")
    assert main(["--db", str(copy), "sync"]) == 0
    assert "1 field changed on both sides waits in Conflicts" in capsys.readouterr().out
    assert main(["--db", str(copy), "conflicts"]) == 0
    listed = capsys.readouterr().out
    assert ", title\n" in listed and "'CFO' by Alex Morgan" in listed
    assert "'Head of Buying' by Sam Rivera" in listed
    conflict = listed.split()[0]
    assert main(["--db", str(copy), "conflicts", "--id", conflict, "--keep", "theirs"]) == 0
    assert "Settled the conflict on " in capsys.readouterr().out
    assert main(["--db", str(copy), "sync"]) == 0
    capsys.readouterr()
    for db in (copy, team):
        with closing(sqlite3.connect(db)) as conn:
            row = conn.execute("SELECT title FROM contacts WHERE id = ?", (contact,)).fetchone()
        assert row == ("CFO",)
    assert main(["--db", str(copy), "conflicts"]) == 0
    assert capsys.readouterr().out == "No conflict waits to be settled.\n"
    assert main(["--db", str(copy), "conflicts", "--keep", "mine"]) == 1
    assert "both --id ID and --keep" in capsys.readouterr().err
