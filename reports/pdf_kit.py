"""What Accord's PDFs share (the dossier PDF and call pack, the call sheets, the reports):
the bundled fonts and user text set in them (:func:`text`: escaped, each character in a
font that draws it), the paragraph styles (:class:`Styles`), a paragraph that breaks its
lines once for each width (:class:`PdfParagraph`), tables in the cell style
(:func:`styled_table`), and the document: its footer, "page N of M" and contents, laid out
in one pass (:class:`Document`, :class:`Heading`, :class:`Contents`).

User text is always text: it is escaped before ReportLab's paragraph markup sees it, and
characters the main font lacks are set in a font that has them (Korean in Nanum Gothic,
Chinese and Japanese in Droid Sans Fallback), so that ``<``, ``&``, ``<font>`` and those
scripts print as typed. A character no bundled font has (most emoji, Thai, the Indic
scripts) prints as a visible replacement mark, never as a blank. Fonts are bundled under
resources/fonts with their licences.
"""

from __future__ import annotations

import re
import unicodedata
from copy import copy
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4 as PAGE
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageTemplate,
    Paragraph,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import _FUZZ
from reportlab.platypus.paraparser import ParaFrag
from reportlab.platypus.tableofcontents import defaultTableStyle

from domain import palette
from domain.errors import AccordError
from domain.values import clean_text

FONTS = Path(__file__).resolve().parent.parent / "resources" / "fonts"
SANS, BOLD, FALLBACK = "AccordSans", "AccordSans-Bold", "AccordFallback"
ITALIC, BOLD_ITALIC = "AccordSans-Oblique", "AccordSans-BoldOblique"
HANGUL = "AccordHangul"
#: What prints for a character no bundled font has.
MISSING = "\ufffd"
ZWJ = "\u200d"  # joins emoji into one picture (a family, a profession)
INK, MUTED = colors.HexColor(palette.INK), colors.HexColor(palette.MUTED)
RULE, HEADER = colors.HexColor(palette.RULE), colors.HexColor(palette.HEADER)


class PdfCancelled(AccordError):
    def __init__(self) -> None:
        super().__init__("The PDF was cancelled; no file was written.")


#: The bundled fonts: DejaVu Sans's four faces, and for what it lacks Nanum Gothic (Korean)
#: and Droid Sans Fallback (Chinese, Japanese).
_FILES = {
    SANS: "DejaVuSans.ttf",
    BOLD: "DejaVuSans-Bold.ttf",
    ITALIC: "DejaVuSans-Oblique.ttf",
    BOLD_ITALIC: "DejaVuSans-BoldOblique.ttf",
    HANGUL: "NanumGothic.ttf",
    FALLBACK: "DroidSansFallbackFull.ttf",
}


@cache
def _glyphs(font: str) -> dict[int, int]:
    """Register a bundled font the first time a text needs it (the Korean and CJK ones
    take longer to read than DejaVu's four faces together); the code points it draws."""
    pdfmetrics.registerFont(TTFont(font, FONTS / _FILES[font]))
    return pdfmetrics.getFont(font).face.charToGlyph  # type: ignore[no-any-return]


@cache
def load_fonts() -> None:
    """Register the main font's faces once, as one family (for bold and italics)."""
    for face in (SANS, BOLD, ITALIC, BOLD_ITALIC):
        _glyphs(face)
    pdfmetrics.registerFontFamily(
        SANS, normal=SANS, bold=BOLD, italic=ITALIC, boldItalic=BOLD_ITALIC
    )


@cache
def font_for(ch: str, face: str) -> str | None:
    """The font that draws ``ch`` in ``face`` (the main font, bold or italic): that face
    where it can, else the upright main font (DejaVu's italics lack Arabic, for one), Korean
    in Nanum Gothic (the CJK fallback has only a few Hangul syllables, and a word should not
    mix two fonts), else the CJK fallback; None when no bundled font has it."""
    load_fonts()
    korean = "HANGUL" in unicodedata.name(ch, "")
    order = (face, SANS, HANGUL, FALLBACK) if korean else (face, SANS, FALLBACK, HANGUL)
    return next((font for font in order if ord(ch) in _glyphs(font)), None)


def text(value: object, face: str = SANS) -> str:
    """User text as paragraph markup that prints exactly as typed in ``face`` (the font the
    paragraph sets it in); a character no bundled font has prints as one replacement mark
    (an emoji made of several, such as a family or a thumb with a skin tone, as one mark
    too), without the control characters no PDF can hold."""
    value = clean_text(str(value))
    if value.isascii():
        return escape(value)
    runs: list[tuple[str, list[str]]] = []
    missing = joined = False
    for ch in value:
        if joined:  # the rest of an emoji that did not print
            joined = False
            continue
        if missing and ch == ZWJ:
            joined = True
            continue
        font = face if ch in "\n\t" else font_for(ch, face)
        if font is None and unicodedata.category(ch) in ("Cf", "Mn", "Me", "Sk"):
            continue  # a mark on the character before it (a skin tone, a variation)
        missing = font is None
        font, ch = (face, MISSING) if font is None else (font, ch)
        if runs and runs[-1][0] == font:
            runs[-1][1].append(ch)
        else:
            runs.append((font, [ch]))
    return "".join(
        escape("".join(chars))
        if font == face
        else f'<font name="{font}">{escape("".join(chars))}</font>'
        for font, chars in runs
    )


def text_style(name: str, **kw: Any) -> ParagraphStyle:
    base = {"fontName": SANS, "fontSize": 9.5, "leading": 13, "textColor": INK,
            "bulletFontName": SANS, "bulletFontSize": 9.5}  # fmt: skip
    return ParagraphStyle(name, **{**base, **kw})


#: Markup that is only text: no tag, no entity, one space between words.
PLAIN = re.compile(r"[^<&\s]+(?: [^<&\s]+)*")


@cache
def _plain_frag(style: ParagraphStyle) -> ParaFrag:
    """What ReportLab's parser makes of a paragraph of plain text in ``style``."""
    return Paragraph("x", style).frags[0]


class PdfParagraph(Paragraph):
    """A paragraph of the dossier PDF. Plain text (most table cells, headings and notes)
    is set without ReportLab's markup parser, as the parser would set it. The lines are
    broken once for each width the paragraph is given: a dossier is measured several
    times at one width (whether it fits its page, the frame that keeps it there, then
    drawing it, which asks for a width a millionth of a point less), and ReportLab breaks
    the lines again every time."""

    blPara: Any  # ReportLab's lines, as the last wrap() broke them
    _wrapWidths: list[float]
    _width_max: float

    def __init__(
        self, markup: str | None, style: ParagraphStyle, bulletText: str | None = None,
        frags: list[ParaFrag] | None = None,  # split() makes its parts from the frags
    ) -> None:  # fmt: skip
        if frags is None and markup is not None and PLAIN.fullmatch(markup):
            frag = copy(_plain_frag(style))
            frag.text, frag.link, frag.us_lines = markup, [], []
            frags = [frag]
        super().__init__(markup, style, bulletText=bulletText, frags=frags)
        self._broken: dict[float, tuple[Any, ...]] = {}

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        width = round(availWidth, 3)  # a thousandth of a point is the same width on paper
        known = self._broken.get(width)
        if known is None or availWidth < _FUZZ:
            size = super().wrap(availWidth, availHeight)
            self._broken[width] = (size, self.blPara, self._wrapWidths, self._width_max)
            return size  # type: ignore[no-any-return]
        (_, self.height), self.blPara, self._wrapWidths, self._width_max = known
        self.width = availWidth
        return self.width, self.height


class Styles:
    """The paragraph styles, one place."""

    body = text_style("body", spaceAfter=4)
    bullet = text_style("bullet", leftIndent=12, bulletIndent=3, spaceAfter=2)
    subheading = text_style("subheading", fontName=BOLD, fontSize=10.5, leading=14,
                            spaceBefore=4, spaceAfter=2)  # fmt: skip
    minor_heading = text_style("minorheading", fontName=BOLD, spaceBefore=3, spaceAfter=1)
    quote = text_style("quote", textColor=MUTED, spaceAfter=4)
    code = text_style("code", backColor=colors.HexColor("#eef2f6"), borderPadding=2,
                      spaceBefore=2, spaceAfter=6)  # fmt: skip
    small = text_style("small", fontSize=8, leading=10, textColor=MUTED)
    footer = text_style("footer", fontSize=7.5, leading=9, textColor=MUTED)
    cell = text_style("cell", fontSize=8.5, leading=11)
    account = text_style("account", fontName=BOLD, fontSize=17, leading=21, spaceAfter=2)
    heading = text_style("heading", fontName=BOLD, fontSize=11.5, leading=15, spaceBefore=9,
                         spaceAfter=3)  # fmt: skip
    missing = text_style("missing", textColor=MUTED, spaceAfter=4)
    cover_title = text_style("cover", fontName=BOLD, fontSize=26, leading=32, alignment=TA_CENTER)
    cover_line = text_style("coverline", fontSize=12, leading=17, alignment=TA_CENTER)
    toc_title = text_style("toctitle", fontName=BOLD, fontSize=15, leading=20, spaceAfter=8)


#: The space left and right of a table cell's text (ReportLab's own).
_CELL_PADDING = 6


def styled_table(rows: list[list[str]], widths: list[float], header: bool = True) -> Table:
    cells = [[_cell(c, width) for c, width in zip(row, widths, strict=True)] for row in rows]
    table = Table(cells, colWidths=widths, repeatRows=1 if header else 0)
    cell = Styles.cell
    commands: list[Any] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), _CELL_PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), _CELL_PADDING),
        ("FONT", (0, 0), (-1, -1), cell.fontName, cell.fontSize, cell.leading),
        ("TEXTCOLOR", (0, 0), (-1, -1), cell.textColor),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), HEADER))
    table.setStyle(TableStyle(commands))
    return table


def _cell(markup: str, width: float) -> str | Flowable:
    """A table cell in the cell style: plain text that fits on one line is a string, which
    the table draws where and as its paragraph would be drawn (the font, size, leading and
    colour of the cell style, at the same baseline) at a fraction of the cost; anything
    else is a paragraph, which wraps."""
    style = Styles.cell
    if PLAIN.fullmatch(markup) and (
        stringWidth(markup, style.fontName, style.fontSize) <= width - 2 * _CELL_PADDING
    ):
        return markup
    return PdfParagraph(markup, style)


class Heading(PdfParagraph):
    """An account's title: its TOC entry and PDF outline point to it."""

    def __init__(self, account: str, key: str) -> None:
        super().__init__(text(account, BOLD), Styles.account)
        self.account, self.key = account, key


class Contents(Flowable):
    """The call pack's contents as ReportLab's table of contents draws them, one pass: an
    entry per dossier is known before the pages are laid out, and its dots and page number
    are a form that the document fills in at its end (:meth:`Document._endBuild`)."""

    style = text_style("toc0", fontSize=10.5, leading=15)

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[list[Flowable]] = []
        self.ends: dict[str, tuple[float, float]] = {}  # where each entry's text ends
        self.right = 0.0

    def add(self, account: str, key: str) -> None:
        self.entries.append([_Entry(account, key, self)])

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.canv.setNamedCB("contentsEntryEnd", self._entry_end)
        self.right = availWidth
        self.table = Table(self.entries, colWidths=(availWidth,), style=defaultTableStyle)
        return self.table.wrapOn(self.canv, availWidth, availHeight)  # type: ignore[no-any-return]

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        return self.table.splitOn(self.canv, availWidth, availHeight)  # type: ignore[no-any-return]

    def drawOn(self, canvas: Canvas, x: float, y: float, _sW: float = 0) -> None:
        self.table.drawOn(canvas, x, y, _sW)

    def _entry_end(self, canvas: Canvas, kind: str, key: str) -> None:
        self.ends[key] = canvas._curr_tx_info["cur_x"], canvas._curr_tx_info["cur_y"]

    def fill_in(self, canvas: Canvas, pages: dict[str, int]) -> None:
        """Each entry's dots and page number."""
        font, size = self.style.fontName, self.style.fontSize
        dot = " . "
        dot_width = stringWidth(dot, font, size)
        for key, (x, y) in self.ends.items():
            page = str(pages[key])
            width = stringWidth(page, font, size)
            dots = int((self.right - x - width) / dot_width)
            canvas.beginForm(f"contents-{key}", -self.right, -PAGE[1], 2 * self.right, PAGE[1])
            line = canvas.beginText(self.right - dots * dot_width - width, y)
            line.setFont(font, size)
            line.setFillColor(self.style.textColor)
            line.textLine(dots * dot + page)
            canvas.drawText(line)
            canvas.endForm()


class _Entry(PdfParagraph):
    """An account in the contents, a link to its dossier; its page number comes after it."""

    def __init__(self, account: str, key: str, contents: Contents) -> None:
        link = f'<a href="#{key}">{text(account)}</a>'
        super().__init__(f'{link}<onDraw name="contentsEntryEnd" label="{key}"/>', contents.style)
        self.key, self.contents = key, contents

    def draw(self) -> None:
        super().draw()
        x, y = self.contents.ends[self.key]
        self.canv.doForm(f"contents-{self.key}")
        leading = self.style.leading
        self.canv.linkRect("", self.key, (x, y, self.contents.right, y + leading), relative=1)


class Document(BaseDocTemplate):
    """Pages with the footer and "page N of M", laid out in one pass: the page numbers
    not known while a page is drawn (M, and each dossier's page in the contents) are
    forms, filled in at the end."""

    def __init__(self, path: Path, footer: str, title: str, contents: Contents | None) -> None:
        super().__init__(
            str(path), pagesize=PAGE, leftMargin=18 * mm, rightMargin=18 * mm,
            topMargin=16 * mm, bottomMargin=18 * mm, title=title, author="Accord",
        )  # fmt: skip
        self.footer = PdfParagraph(text(footer), Styles.footer)  # a workspace's name is typed
        self.contents = contents
        self.starts: dict[str, int] = {}  # the page each dossier starts on
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body")
        self.addPageTemplates([PageTemplate("page", [frame], onPage=self._footer)])

    def _footer(self, canvas: Canvas, doc: BaseDocTemplate) -> None:
        _, height = self.footer.wrapOn(canvas, self.width * 0.8, 20 * mm)
        self.footer.drawOn(canvas, self.leftMargin, 10 * mm + 7.5 - height)  # on the number's line
        canvas.doForm(f"page-{doc.page}")

    def afterFlowable(self, flowable: Flowable) -> None:
        if isinstance(flowable, Heading):
            self.canv.bookmarkPage(flowable.key)
            self.canv.addOutlineEntry(flowable.account, flowable.key, level=0)
            self.starts[flowable.key] = self.page

    def _endBuild(self) -> None:
        canvas, total = self.canv, self.page
        for page in range(1, total + 1):
            canvas.beginForm(f"page-{page}")
            canvas.setFont(SANS, 7.5)
            canvas.setFillColor(MUTED)
            canvas.drawRightString(PAGE[0] - self.rightMargin, 10 * mm, f"Page {page} of {total}")
            canvas.endForm()
        if self.contents is not None:
            self.contents.fill_in(canvas, self.starts)
        # the pages' streams compressed and written as they are, not also spelled out in
        # ASCII85 (ReportLab's default, for mail that carried 7 bits), which costs a call
        # pack a fourteenth of its time and an eighth of its size
        a85, rl_config.useA85 = rl_config.useA85, 0
        try:
            super()._endBuild()
        finally:
            rl_config.useA85 = a85
