"""The command-line contract: output, rejected rows on stderr, exit codes."""

from __future__ import annotations

from main import main


def test_import_prints_a_summary_and_rejected_rows(tmp_path, capsys):
    db = str(tmp_path / "w.sqlite")
    path = tmp_path / "list.csv"
    path.write_text("Company name,Number of Employees\nAcme,12\nBeta,lots\n", encoding="utf-8")
    rejects = tmp_path / "fix.csv"
    code = main(["--db", db, "--user", "Ann", "import", "accounts", str(path),
                 "--rejects", str(rejects)])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0
    assert "1 created, 0 updated, 0 duplicates skipped, 1 rejected" in out and "batch id:" in out
    assert "list.csv: row 3, column 'Number of Employees'" in err
    assert "Beta,lots,3,Number of Employees" in rejects.read_text(encoding="utf-8-sig")


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
    assert "1 records removed" in capsys.readouterr().out
    assert main(["--db", db, "undo-import", "not-a-batch"]) == 1
