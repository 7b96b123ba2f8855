"""The dossier PDF and the call pack: typed text prints as typed (hostile markup, many
scripts), long sections flow across pages, the call pack has a cover, contents and one
dossier per page; both are made headless from the command line."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import create_engine

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
from reports.pdf_kit import ITALIC, load_fonts, text
from storage.workspace import Workspace

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


def _footer(page: str) -> str:
    return next(line for line in page.splitlines() if line.startswith("Accord · "))


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


KOREAN = "서울특별시 강남구 테헤란로 한빛물류 주식회사"


def _dark_pixels(pdf: Path, top_mm: float, bottom_mm: float) -> int:
    """How many dark pixels the first page shows between two heights from its top: the
    page as a person sees it, rendered by poppler's pdftoppm."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed: the page cannot be rendered")
    out = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-gray", "-r", "72", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(out)], check=True)  # fmt: skip
    data = out.with_suffix(".pgm").read_bytes()
    magic, size, _, pixels = data.split(b"\n", 3)  # P5, "width height", 255, the pixels
    assert magic == b"P5"
    w = int(size.split()[0])
    first, last = (round(mm / 25.4 * 72) for mm in (top_mm, bottom_mm))
    return sum(1 for value in pixels[first * w : last * w] if value < 128)


def test_korean_prints_and_what_no_font_has_prints_as_a_mark(tmp_path):
    out = tmp_path / "korean.pdf"
    texts = {"overview": f"{KOREAN}\n신규 고객 🚀 👍🏽 👨‍👩‍👧 สวัสดี"}
    write_dossiers([_dossier(KOREAN, texts)], out, title="Dossier", workspace="영업팀")
    page = _pages(out)[0]
    assert _body(page).startswith(KOREAN) and "Accord · 영업팀 · " in page  # the footer too
    # each emoji is one mark (a thumb with a skin tone, a family); Thai's letters are marks
    assert "신규 고객 \ufffd \ufffd \ufffd \ufffd\ufffd\ufffd\ufffd" in page
    fonts = {str(f["/BaseFont"]) for f in PdfReader(out).pages[0]["/Resources"]["/Font"].values()}
    assert any("NanumGothic" in name for name in fonts)
    # the account's name is the page's heading, 16 mm from the top: its glyphs are drawn
    assert _dark_pixels(out, 15, 24) > 400


@pytest.mark.parametrize(
    ("db", "name"),
    [
        ("sqlite:////home/ann/Accord/Sales team.sqlite", "Sales team"),
        ("postgresql+psycopg://alice:s3cret@db.example.com:5433/accord_sales", "accord_sales"),
    ],
)
def test_the_footer_names_the_workspace_never_its_path_or_address(tmp_path, db, name):
    workspace = Workspace(db, create_engine(db))  # nothing is opened: only its name is read
    out = tmp_path / "dossier.pdf"
    write_dossiers([_dossier("Acme AG")], out, title="Dossier", workspace=workspace.name)
    footer = _footer(_pages(out)[0])
    assert re.fullmatch(rf"Accord · {name} · \d{{4}}-\d\d-\d\d", footer)
    workspace.close()


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
    assert {_footer(page).split(" · ")[1] for page in pages} == {"demo"}
    assert str(tmp_path) not in " ".join(pages)
    first = _body(pages[2]).splitlines()[0]
    single = tmp_path / "one.pdf"
    one = ["report", "dossier", "--account", first, "--out", str(single)]
    assert main(["--db", db, "--user", "Sam Rivera", *one]) == 0
    assert _body(_pages(single)[0]).startswith(first)
    assert "Wrote 1 dossier to" in capsys.readouterr().out
    missing = ["report", "dossier", "--account", "no-such.example", "--out", str(single)]
    assert main(["--db", db, *missing]) == 1
    assert "No account" in capsys.readouterr().err


def test_each_demo_dossier_fills_one_page_of_the_call_pack(tmp_path):
    """The demo's dossiers (every section written, or half of them) are each one page: a
    30-account call pack is a cover, the contents and 30 pages, none of them near-empty."""
    db = str(tmp_path / "demo.sqlite")
    assert main(["--db", db, "--user", "Alex Morgan", "demo", "--accounts", "600"]) == 0
    pack = tmp_path / "pack.pdf"
    args = ["--db", db, "--user", "Sam Rivera", "report", "call-pack", "--rep", "Sam Rivera"]
    assert main([*args, "--out", str(pack)]) == 0
    reader = PdfReader(pack)
    assert len(reader.outline) == 30 and len(reader.pages) == 32
    pages = _pages(pack)
    for n, entry in enumerate(reader.outline, 2):
        assert reader.get_destination_page_number(entry) == n
        body = _body(pages[n])
        assert body.startswith(entry.title) and "Source links" in body  # the dossier, whole


def _points(count: int) -> str:
    return "\n".join(f"- Point {n} the rep should raise on the call" for n in range(count))


def test_a_dossier_a_little_longer_than_a_page_is_set_smaller_to_fit_it(tmp_path):
    out = tmp_path / "pack.pdf"
    full = {s.key: f"{s.title}: research.\n\n{_points(1)}" for s in DEFAULT_TEMPLATE.sections}
    longer = {**full, "news": _points(9)}  # about 8% more than a page
    longest = {key: f"{text}\n{_points(2)}" for key, text in full.items()}  # a quarter more
    dossiers = [_dossier("Alpha AG", full), _dossier("Beta GmbH", longer),
                _dossier("Gamma Ltd", longest)]  # fmt: skip
    write_dossiers(dossiers, out, title="Call pack", workspace="w", cover_lines=["for Sam"])
    pages = _pages(out)
    assert len(pages) == 6  # the longest flows on at full size
    for page, name in zip(pages[2:4], ["Alpha AG", "Beta GmbH"], strict=True):
        assert _body(page).startswith(name) and "Source links" in page
    assert _body(pages[4]).startswith("Gamma Ltd") and "Source links" in pages[5]


MARKDOWN = """\
# Plan for the visit
Start with **the EDI deadline**, *gently*, ***now*** and `EDI-42`; see the
[price list](https://example.com/prices?a=1&b=<2>) and <https://example.org>.

## Who decides
3. Anna Berg, CFO
4. Jonas Lind
   - signs above 50k
   - travels in *May*

> They said: "we lose a quote a week".

---
Plain <b>not bold</b> &amp; <script>alert(1)</script>, 2 * 3 * 4 and 5 < 6 > 4.
"""


def _runs(pdf: Path) -> list[tuple[str, str, float]]:
    """Every piece of text on the pages with the font and size it is set in."""
    runs: list[tuple[str, str, float]] = []

    def seen(text, cm, tm, font, size):
        if text.strip() and font is not None:
            runs.append((text.strip(), str(font["/BaseFont"]).split("+")[-1], size * tm[0]))

    for page in PdfReader(pdf).pages:
        page.extract_text(visitor_text=seen)
    return runs


def test_section_text_prints_as_its_markdown_says(tmp_path):
    out = tmp_path / "dossier.pdf"
    write_dossiers([_dossier("Acme AG", {"talking_points": MARKDOWN})], out, title="Dossier",
                   workspace="w")  # fmt: skip
    page = _pages(out)[0]
    lines = [line.strip() for line in page.splitlines()]
    assert "Plan for the visit" in lines and "Who decides" in lines  # without their #
    assert "price list (https://example.com/prices?a=1&b=<2>) and https://example.org." in page
    assert "3. Anna Berg, CFO" in lines and "4. Jonas Lind" in lines  # numbered as written
    assert "• signs above 50k" in lines and "• travels in May" in lines
    assert 'They said: "we lose a quote a week".' in lines
    hostile = "Plain <b>not bold</b> &amp; <script>alert(1)</script>, 2 * 3 * 4 and 5 < 6 > 4."
    assert hostile in lines  # raw HTML, entities and stray stars print as typed
    assert "**" not in page and "`" not in page
    fonts = {text: (font, size) for text, font, size in _runs(out)}
    assert fonts["Plan for the visit"] == ("DejaVuSans-Bold", 10.5)
    assert fonts["the EDI deadline"][0] == "DejaVuSans-Bold"
    assert fonts["gently"][0] == fonts["May"][0] == "DejaVuSans-Oblique"
    assert fonts["now"][0] == "DejaVuSans-BoldOblique"
    assert fonts["Start with"][0] == "DejaVuSans" and "now and EDI-42; see" in page


def test_a_letter_the_italic_font_lacks_prints_upright():
    load_fonts()
    assert text("*Ελένη*", ITALIC) == "*Ελένη*"  # DejaVu's italics have Greek
    assert text("مرحبا", ITALIC) == '<font name="AccordSans">مرحبا</font>'  # but not Arabic


def test_the_contents_number_every_dossier_by_the_page_it_starts_on(tmp_path):
    """Contents two pages long and a dossier four pages long, laid out in one pass: each
    entry's page number and every "Page N of M" are the pages' own."""
    out = tmp_path / "pack.pdf"
    long = " ".join(f"Sentence {n} about the customer's plans." for n in range(400))
    dossiers = [_dossier(f"Account {n:02d}") for n in range(60)]
    dossiers[1] = _dossier("Account 01", {"overview": long})
    write_dossiers(dossiers, out, title="Call pack", workspace="w", cover_lines=["for Sam"])
    reader = PdfReader(out)
    starts = [reader.get_destination_page_number(o) + 1 for o in reader.outline]
    assert starts[:3] == [4, 5, 9] and starts[-1] == len(reader.pages) == 66
    contents = "".join(_pages(out)[1:3])
    assert [int(n) for n in re.findall(r"Account \d\d\n[ .]*\. (\d+)\n", contents)] == starts
    for number, page in enumerate(_pages(out), 1):
        assert f"Page {number} of 66" in page


def test_the_call_pack_is_laid_out_once(tmp_path, monkeypatch):
    """The work a call pack takes, as a rep waits for it: each page is laid out once (not
    again until the contents' numbers hold), each paragraph's lines are broken once (not
    again each time the dossier is measured or drawn), plain text is not parsed as markup,
    and the pages are not spelled out in ASCII85 (a smaller file, sooner)."""
    from reportlab import rl_config
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Paragraph
    from reportlab.platypus.paraparser import ParaParser

    pages, breaks, parsed = [], [], []

    def counting(cls, name, seen, what):
        original = getattr(cls, name)

        def counted(self, *args, **kwargs):
            seen.append(what(self, *args))
            return original(self, *args, **kwargs)

        monkeypatch.setattr(cls, name, counted)

    counting(Canvas, "showPage", pages, lambda canvas: 1)
    counting(Paragraph, "breakLines", breaks, lambda paragraph, widths: paragraph)
    counting(ParaParser, "parse", parsed, lambda parser, text, style: text)
    out = tmp_path / "pack.pdf"
    names = ["Alpha AG", "Beta GmbH", "Gamma Ltd"]
    write_dossiers([_dossier(n) for n in names], out, title="Call pack", workspace="w",
                   cover_lines=["for Sam Rivera"])  # fmt: skip
    assert len(pages) == len(_pages(out)) == 5
    assert max(breaks.count(paragraph) for paragraph in breaks) == 1
    # a table cell of plain text that fits its line is drawn as a string
    assert not {"Criterion", "+35", "CEO"} & {paragraph.text for paragraph in breaks}
    assert parsed and all(re.search(r"[<&]", text) or text == "x" for text in parsed)
    for page in PdfReader(out).pages:
        assert page["/Contents"].get_object()["/Filter"] == ["/FlateDecode"]
    assert rl_config.useA85 == 1  # ReportLab's setting as it was, for other documents


def test_a_pack_in_latin_script_does_not_read_the_fonts_of_other_scripts(tmp_path):
    """Korean, Chinese and Japanese fonts (8.7 MB) are read when a text needs them."""
    script = (
        "import sys; from pathlib import Path; from pypdf import PdfReader\n"
        "from tests.test_dossier_pdf import _dossier, KOREAN\n"
        "from reports.dossier_pdf import write_dossiers\n"
        "from reportlab.pdfbase.pdfmetrics import getRegisteredFontNames\n"
        "out = Path(sys.argv[1])\n"
        "write_dossiers([_dossier('Acme AG')], out, title='Dossier', workspace='w')\n"
        "print(sorted(n for n in getRegisteredFontNames() if n.startswith('Accord')))\n"
        "write_dossiers([_dossier(KOREAN)], out, title='Dossier', workspace='w')\n"
        "print(sorted(n for n in getRegisteredFontNames() if n.startswith('Accord')))\n"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "x.pdf")], cwd=root,
                          capture_output=True, text=True, check=True)  # fmt: skip
    latin, korean = done.stdout.splitlines()
    assert "AccordHangul" not in latin and "AccordFallback" not in latin
    assert "AccordHangul" in korean and "AccordSans" in latin


def test_a_table_cell_drawn_as_a_string_prints_as_its_paragraph_did(tmp_path, monkeypatch):
    """Plain text that fits its cell is drawn as a string, the rest as a paragraph; the
    page looks the same to the pixel as when every cell was a paragraph."""
    from reportlab.platypus import SimpleDocTemplate

    from reports import pdf_kit

    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed: the page cannot be rendered")
    rows = [
        ["Criterion", "Gave"],
        ["Industry in Manufacturing", "+35"],
        ["Kiel", " ".join(["wraps"] * 30)],
    ]
    widths = [150.0, 120.0]
    pdf_kit.load_fonts()
    cells = pdf_kit.styled_table(rows, widths)._cellvalues
    assert [type(cell).__name__ for cell in cells[2]] == ["str", "PdfParagraph"]
    pictures = []
    for name in ("strings", "paragraphs"):
        if name == "paragraphs":
            monkeypatch.setattr(pdf_kit, "_cell", lambda c, w: pdf_kit.PdfParagraph(
                c, pdf_kit.Styles.cell))  # fmt: skip
        pdf = tmp_path / f"{name}.pdf"
        SimpleDocTemplate(str(pdf)).build([pdf_kit.styled_table(rows, widths)])
        subprocess.run(["pdftoppm", "-r", "150", "-singlefile", "-gray", str(pdf),
                        str(tmp_path / name)], check=True)  # fmt: skip
        pictures.append((tmp_path / f"{name}.pgm").read_bytes())
    assert pictures[0] == pictures[1]
