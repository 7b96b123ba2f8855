"""The dossier PDF and the call pack: typed text prints as typed (hostile markup, many
scripts), long sections flow across pages, the call pack has a cover, contents and one
dossier per page; both are made headless from the command line."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from domain.dossiers import (
    DEFAULT_TEMPLATE,
    DossierStatus,
    PrintedContact,
    PrintedDossier,
    Source,
)
from domain.errors import AccordError
from main import main
from reports.dossier_pdf import write_dossiers

HOSTILE = [
    "Price < 5k & margin > 20%",
    '<font name="Courier" size="40">not markup</font>',
    "<b>not bold</b> <para> &amp; &lt;",
    "Кирилл Петров, директор",
    "Ελένη Παπαδοπούλου",
    "北京分公司 采购经理",
    "Zoë Ørsted-Müller, Señor Ñúñez",
]


def _dossier(account: str, texts: dict[str, str] | None = None) -> PrintedDossier:
    texts = texts if texts is not None else {"overview": "Makes pumps."}
    return PrintedDossier(
        account=account,
        facts=(("Industry", "Manufacturing"), ("Country", "Germany")),
        score=85,
        tier="A",
        why=(("Industry in Manufacturing", "+35"), ("Country not in Japan", "must-have, met")),
        owner="Sam Rivera",
        priority=1,
        stage="targeted",
        status=DossierStatus.READY,
        completeness=100,
        author="Maya Chen",
        updated_at=datetime(2026, 11, 20, tzinfo=UTC),
        sections=tuple((s, texts.get(s.key, "")) for s in DEFAULT_TEMPLATE.sections),
        sources=(Source("https://example.com/a?x=1&y=<2>", "Press & news"),),
        contacts=(PrintedContact("Кирилл Петров", "CEO", "k@example.com", "+7 1", True),),
        rating=4.5,
        ratings=2,
    )


def _pages(path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def _body(page: str) -> str:
    """A page's text without its footer (workspace, date, page number)."""
    lines = page.strip().splitlines()
    return "\n".join(ln for ln in lines if not re.match(r"(Accord · |Page \d+ of \d+)", ln))


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_typed_text_prints_as_typed_in_any_script(tmp_path):
    out = tmp_path / "dossier.pdf"
    texts = {"overview": "\n".join(HOSTILE), "needs": "- **Late** deliveries\n- Cash < plan"}
    write_dossiers([_dossier("Acme <Holdings> & Co", texts)], out, title="Dossier",
                   workspace="test.sqlite")  # fmt: skip
    text = _flat(" ".join(_pages(out)))
    for line in [*HOSTILE, "Acme <Holdings> & Co", "Late deliveries", "Cash < plan"]:
        assert line in text
    assert "https://example.com/a?x=1&y=<2>" in text
    assert "Industry in Manufacturing" in text and "Fit score 85, tier A" in text
    assert "Not researched yet (required)" in text  # an empty required section says so
    assert "Page 1 of 1" in text and "test.sqlite" in text


def test_a_long_section_flows_across_pages(tmp_path):
    out = tmp_path / "long.pdf"
    long = " ".join(f"Sentence {n} about the customer's plans." for n in range(1500))
    write_dossiers([_dossier("Longform GmbH", {"overview": long + " THE END"})], out,
                   title="Dossier", workspace="w")  # fmt: skip
    pages = _pages(out)
    assert len(pages) >= 4
    text = _flat(" ".join(pages))
    assert "Sentence 0 about" in pages[0] and "Sentence 1499 about" in text
    assert "THE END" in _flat(" ".join(pages[3:]))  # the text goes on, page after page
    assert f"Page {len(pages)} of {len(pages)}" in pages[-1]


def test_the_call_pack_has_a_cover_contents_and_a_page_per_dossier(tmp_path):
    out = tmp_path / "pack.pdf"
    names = ["Alpha AG", "Beta GmbH", "Gamma Ltd"]
    count = write_dossiers([_dossier(n) for n in names], out, title="Call pack",
                           workspace="w", cover_lines=["for Sam Rivera"])  # fmt: skip
    pages = _pages(out)
    assert count == 3 and len(pages) == 5
    assert "Call pack" in pages[0] and "for Sam Rivera" in pages[0]
    assert "Contents" in pages[1] and all(n in pages[1] for n in names)
    for page, name in zip(pages[2:], names, strict=True):
        assert _body(page).startswith(name)
    reader = PdfReader(out)  # the outline (and the contents) point at each dossier's page
    assert [(o.title, reader.get_destination_page_number(o)) for o in reader.outline] == [
        ("Alpha AG", 2),
        ("Beta GmbH", 3),
        ("Gamma Ltd", 4),
    ]
    assert re.findall(r"\. (\d)\n", pages[1]) == ["3", "4", "5"]


def test_nothing_to_print_is_refused_and_leaves_no_file(tmp_path):
    out = tmp_path / "empty.pdf"
    with pytest.raises(AccordError, match="no dossier"):
        write_dossiers([], out, title="Call pack", workspace="w", cover_lines=["x"])
    assert list(tmp_path.iterdir()) == []


def test_the_command_line_prints_a_dossier_and_a_call_pack(tmp_path, capsys):
    db = str(tmp_path / "demo.sqlite")
    assert main(["--db", db, "--user", "Alex Morgan", "demo", "--accounts", "400"]) == 0
    pack = tmp_path / "pack.pdf"
    args = ["--db", db, "--user", "Sam Rivera", "report", "call-pack", "--rep", "Sam Rivera"]
    assert main([*args, "--limit", "3", "--out", str(pack)]) == 0
    pages = _pages(pack)
    assert "for Sam Rivera" in pages[0] and len(pages) >= 5
    first = _body(pages[2]).splitlines()[0]
    single = tmp_path / "one.pdf"
    one = ["report", "dossier", "--account", first, "--out", str(single)]
    assert main(["--db", db, "--user", "Sam Rivera", *one]) == 0
    assert _body(_pages(single)[0]).startswith(first)
    assert "Wrote 1 dossier to" in capsys.readouterr().out
    missing = ["report", "dossier", "--account", "no-such.example", "--out", str(single)]
    assert main(["--db", db, *missing]) == 1
    assert "No account" in capsys.readouterr().err
