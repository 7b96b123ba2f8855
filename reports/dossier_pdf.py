"""The dossier PDF and the rep's call pack (ReportLab).

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
from collections.abc import Iterable
from copy import copy
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Protocol
from xml.sax.saxutils import escape

from markdown_it import MarkdownIt
from markdown_it.token import Token
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
    CondPageBreak,
    Flowable,
    Frame,
    HRFlowable,
    KeepInFrame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import _FUZZ, _listWrapOn
from reportlab.platypus.paraparser import ParaFrag
from reportlab.platypus.tableofcontents import defaultTableStyle

from domain import palette
from domain.dossiers import PrintedDossier
from domain.errors import AccordError
from domain.progress import Cancel, Progress
from domain.values import clean_text, shown_time
from reports.output import check_output, writing

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
def _fonts() -> None:
    """Register the main font's faces once, as one family (for bold and italics)."""
    for face in (SANS, BOLD, ITALIC, BOLD_ITALIC):
        _glyphs(face)
    pdfmetrics.registerFontFamily(
        SANS, normal=SANS, bold=BOLD, italic=ITALIC, boldItalic=BOLD_ITALIC
    )


@cache
def _font_for(ch: str, face: str) -> str | None:
    """The font that draws ``ch`` in ``face`` (the main font, bold or italic): that face
    where it can, else the upright main font (DejaVu's italics lack Arabic, for one), Korean
    in Nanum Gothic (the CJK fallback has only a few Hangul syllables, and a word should not
    mix two fonts), else the CJK fallback; None when no bundled font has it."""
    _fonts()
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
        font = face if ch in "\n\t" else _font_for(ch, face)
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


def _style(name: str, **kw: Any) -> ParagraphStyle:
    base = {"fontName": SANS, "fontSize": 9.5, "leading": 13, "textColor": INK,
            "bulletFontName": SANS, "bulletFontSize": 9.5}  # fmt: skip
    return ParagraphStyle(name, **{**base, **kw})


#: Markup that is only text: no tag, no entity, one space between words.
_PLAIN = re.compile(r"[^<&\s]+(?: [^<&\s]+)*")


@cache
def _plain_frag(style: ParagraphStyle) -> ParaFrag:
    """What ReportLab's parser makes of a paragraph of plain text in ``style``."""
    return Paragraph("x", style).frags[0]


class _Paragraph(Paragraph):
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
        if frags is None and markup is not None and _PLAIN.fullmatch(markup):
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


class _Styles:
    """The paragraph styles, one place."""

    body = _style("body", spaceAfter=4)
    bullet = _style("bullet", leftIndent=12, bulletIndent=3, spaceAfter=2)
    subheading = _style("subheading", fontName=BOLD, fontSize=10.5, leading=14, spaceBefore=4,
                        spaceAfter=2)  # fmt: skip
    minor_heading = _style("minorheading", fontName=BOLD, spaceBefore=3, spaceAfter=1)
    quote = _style("quote", textColor=MUTED, spaceAfter=4)
    code = _style("code", backColor=colors.HexColor("#eef2f6"), borderPadding=2, spaceBefore=2,
                  spaceAfter=6)  # fmt: skip
    small = _style("small", fontSize=8, leading=10, textColor=MUTED)
    footer = _style("footer", fontSize=7.5, leading=9, textColor=MUTED)
    cell = _style("cell", fontSize=8.5, leading=11)
    account = _style("account", fontName=BOLD, fontSize=17, leading=21, spaceAfter=2)
    heading = _style("heading", fontName=BOLD, fontSize=11.5, leading=15, spaceBefore=9,
                     spaceAfter=3)  # fmt: skip
    missing = _style("missing", textColor=MUTED, spaceAfter=4)
    cover_title = _style("cover", fontName=BOLD, fontSize=26, leading=32, alignment=TA_CENTER)
    cover_line = _style("coverline", fontSize=12, leading=17, alignment=TA_CENTER)
    toc_title = _style("toctitle", fontName=BOLD, fontSize=15, leading=20, spaceAfter=8)


class _CommonMark(MarkdownIt):
    """CommonMark without HTML: a tag or an entity in the text is text. Links print as
    typed: their addresses not percent-encoded, any scheme a link."""

    def __init__(self) -> None:
        super().__init__("commonmark", {"html": False})
        self.disable("entity")

    def normalizeLink(self, url: str) -> str:
        return url

    def normalizeLinkText(self, link: str) -> str:
        return link

    def validateLink(self, url: str) -> bool:
        return True


_MARKDOWN = _CommonMark()
#: How far each list level, or quote, indents its text.
_INDENT = 18
_HEADINGS = {"h1": _Styles.subheading, "h2": _Styles.subheading}
_FACES = {
    (False, False): SANS,
    (True, False): BOLD,
    (False, True): ITALIC,
    (True, True): BOLD_ITALIC,
}


def section_flowables(body: str) -> list[Flowable]:
    """A section's text, read as CommonMark, as flowables: paragraphs, headings, bullet and
    numbered lists (nested), quotes, code, rules; bold, italics, and links printed as their
    text with the address after it. A line break prints as one, as it was typed. Whatever
    is not Markdown (HTML, entities, a stray ``*``) prints as typed. A long paragraph flows
    on to the next page."""
    # control characters go before the parser sees them: it would print a NUL as a mark
    return _Section().flowables(_MARKDOWN.parse(clean_text(body)))


class _Section:
    """Markdown's tokens to flowables: the lists and quotes open at each point, and the
    number or bullet waiting for an item's first paragraph."""

    def __init__(self) -> None:
        self.out: list[Flowable] = []
        self.depth = 0  # lists and quotes open
        self.quotes = 0
        self.marker: str | None = None

    def flowables(self, tokens: list[Token]) -> list[Flowable]:
        for n, token in enumerate(tokens):
            kind = token.type
            if kind in ("bullet_list_open", "ordered_list_open", "blockquote_open"):
                self.depth += 1
                self.quotes += kind == "blockquote_open"
            elif kind in ("bullet_list_close", "ordered_list_close", "blockquote_close"):
                self.depth -= 1
                self.quotes -= kind == "blockquote_close"
            elif kind == "list_item_open":
                self.marker = f"{token.info}{token.markup}" if token.info else "•"
            elif kind == "list_item_close" and self.marker is not None:
                self.add("", _Styles.body)  # an item with nothing in it
            elif kind == "inline":
                opening = tokens[n - 1]
                style = _HEADINGS.get(opening.tag, _Styles.minor_heading)
                if opening.type != "heading_open":
                    style = _Styles.quote if self.quotes else _Styles.body
                self.add(_inline(token.children or [], bold=style.fontName == BOLD), style)
            elif kind in ("fence", "code_block"):
                lines = token.content.rstrip("\n").split("\n")
                self.add(
                    "<br/>".join(text(ln).replace(" ", "&nbsp;") for ln in lines), _Styles.code
                )
            elif kind == "hr":
                self.out.append(HRFlowable(width="100%", thickness=0.5, color=RULE,
                                           spaceBefore=3, spaceAfter=5))  # fmt: skip
        return self.out

    def add(self, markup: str, style: ParagraphStyle) -> None:
        style = _indented(style, self.depth) if self.depth else style
        self.out.append(_Paragraph(markup, style, bulletText=self.marker))
        self.marker = None


@cache
def _indented(style: ParagraphStyle, depth: int) -> ParagraphStyle:
    """``style`` inside ``depth`` lists or quotes, its bullet in the margin."""
    left = style.leftIndent + depth * _INDENT
    return ParagraphStyle(f"{style.name}{depth}", parent=style, leftIndent=left,
                          bulletIndent=left - _INDENT + 3, bulletFontSize=style.fontSize,
                          spaceAfter=min(style.spaceAfter, 2))  # fmt: skip


def _inline(tokens: list[Token], bold: bool = False) -> str:
    """A paragraph's inline tokens as paragraph markup, every text escaped."""
    out: list[str] = []
    strong = emphasis = 0  # open bold and italic spans
    label: list[str] = []  # the text of the link being read
    href = ""
    for token in tokens:
        face = _FACES[bold or strong > 0, emphasis > 0]
        kind = token.type
        if kind in ("text", "code_inline"):
            printed = text(token.content, face)
            code = kind == "code_inline"
            out.append(f'<font backColor="#eef2f6">{printed}</font>' if code else printed)
            label.append(token.content)
        elif kind in ("softbreak", "hardbreak"):
            out.append("<br/>")
        elif kind in ("strong_open", "strong_close", "em_open", "em_close"):
            opens = kind.endswith("_open")
            if kind.startswith("strong"):
                strong += 1 if opens else -1
                out.append("<b>" if opens else "</b>")
            else:
                emphasis += 1 if opens else -1
                out.append("<i>" if opens else "</i>")
        elif kind == "link_open":
            label, href = [], str(token.attrGet("href") or "")
        elif kind == "link_close":
            out.append(_address("".join(label), href, face))
        elif kind == "image":
            out.append(text(token.content, face))
            out.append(_address(token.content, str(token.attrGet("src") or ""), face))
    return "".join(out)


def _address(label: str, href: str, face: str) -> str:
    """A link's address after its text, on paper where no one can click: not when the text
    is the address already (``<https://...>``, ``<name@example.com>``)."""
    if href in (label, f"mailto:{label}") or not href:
        return ""
    return f" ({text(href, face)})"


#: The space left and right of a table cell's text (ReportLab's own).
_CELL_PADDING = 6


def _table(rows: list[list[str]], widths: list[float], header: bool = True) -> Table:
    cells = [[_cell(c, width) for c, width in zip(row, widths, strict=True)] for row in rows]
    table = Table(cells, colWidths=widths, repeatRows=1 if header else 0)
    cell = _Styles.cell
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
    style = _Styles.cell
    if _PLAIN.fullmatch(markup) and (
        stringWidth(markup, style.fontName, style.fontSize) <= width - 2 * _CELL_PADDING
    ):
        return markup
    return _Paragraph(markup, style)


#: The smallest a dossier is set to keep it on one page (its 9.5 pt text at 8.1 pt): one a
#: little longer than a page fits, and a long one flows at full size rather than shrinking.
MIN_SCALE = 0.85


class _OnePage(KeepInFrame):
    """A dossier's content on the rest of its first page, set a little smaller when that
    is what it takes; content too long for that flows on across pages at full size, its
    headings kept with their text."""

    def __init__(self, content: list[Flowable]) -> None:
        self.flowing = content
        # one page has no page to break to: the conditional breaks and keep-togethers are
        # for the flowing form only
        flat = [g for f in content for g in (f._content if isinstance(f, KeepTogether) else [f])]
        super().__init__(0, 0, [f for f in flat if not isinstance(f, CondPageBreak)])

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        _, height = _listWrapOn(self._content, availWidth, self.canv)
        if height * MIN_SCALE > availHeight:
            return availWidth, height  # more than the page: the frame splits it
        return super().wrap(availWidth, availHeight)  # type: ignore[no-any-return]

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        return self.flowing


class _Heading(_Paragraph):
    """An account's title: its TOC entry and PDF outline point to it."""

    def __init__(self, account: str, key: str) -> None:
        super().__init__(text(account, BOLD), _Styles.account)
        self.account, self.key = account, key


class _Contents(Flowable):
    """The call pack's contents as ReportLab's table of contents draws them, one pass: an
    entry per dossier is known before the pages are laid out, and its dots and page number
    are a form that the document fills in at its end (:meth:`_Document._endBuild`)."""

    style = _style("toc0", fontSize=10.5, leading=15)

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


class _Entry(_Paragraph):
    """An account in the contents, a link to its dossier; its page number comes after it."""

    def __init__(self, account: str, key: str, contents: _Contents) -> None:
        link = f'<a href="#{key}">{text(account)}</a>'
        super().__init__(f'{link}<onDraw name="contentsEntryEnd" label="{key}"/>', contents.style)
        self.key, self.contents = key, contents

    def draw(self) -> None:
        super().draw()
        x, y = self.contents.ends[self.key]
        self.canv.doForm(f"contents-{self.key}")
        leading = self.style.leading
        self.canv.linkRect("", self.key, (x, y, self.contents.right, y + leading), relative=1)


class _Document(BaseDocTemplate):
    """Pages with the footer and "page N of M", laid out in one pass: the page numbers
    not known while a page is drawn (M, and each dossier's page in the contents) are
    forms, filled in at the end."""

    def __init__(self, path: Path, footer: str, title: str, contents: _Contents | None) -> None:
        super().__init__(
            str(path), pagesize=PAGE, leftMargin=18 * mm, rightMargin=18 * mm,
            topMargin=16 * mm, bottomMargin=18 * mm, title=title, author="Accord",
        )  # fmt: skip
        self.footer = _Paragraph(text(footer), _Styles.footer)  # a workspace's name is typed
        self.contents = contents
        self.starts: dict[str, int] = {}  # the page each dossier starts on
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body")
        self.addPageTemplates([PageTemplate("page", [frame], onPage=self._footer)])

    def _footer(self, canvas: Canvas, doc: BaseDocTemplate) -> None:
        _, height = self.footer.wrapOn(canvas, self.width * 0.8, 20 * mm)
        self.footer.drawOn(canvas, self.leftMargin, 10 * mm + 7.5 - height)  # on the number's line
        canvas.doForm(f"page-{doc.page}")

    def afterFlowable(self, flowable: Flowable) -> None:
        if isinstance(flowable, _Heading):
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


class PrintedPage(Protocol):
    """An account's page of the call pack that is not a dossier (a call sheet): the
    account's name and what prints below it."""

    @property
    def account(self) -> str: ...
    def content(self) -> list[Flowable]: ...


def _dossier_story(d: PrintedDossier | PrintedPage, key: str) -> list[Flowable]:
    """The account's name, and below it the dossier on one page where it fits."""
    content = _dossier_content(d) if isinstance(d, PrintedDossier) else d.content()
    return [_Heading(d.account, key), _OnePage(content)]


def _dossier_content(d: PrintedDossier) -> list[Flowable]:
    s = _Styles
    story: list[Flowable] = []
    facts = " · ".join(f"{text(label)}: {text(value)}" for label, value in d.facts)
    if facts:
        story.append(_Paragraph(facts, s.small))
    when = shown_time(d.updated_at, "%Y-%m-%d") if d.updated_at else ""
    place = [f"Owner: {text(d.owner)}" if d.owner else "No owner yet"]
    if d.priority is not None:
        place.append(f"priority {d.priority}")
    if d.stage:
        place.append(text(d.stage))
    rating = f" · rated {d.rating:.1f}/5 by {d.ratings}" if d.rating is not None else ""
    story.append(_Paragraph(
        f"Dossier {d.status} · {d.completeness}% complete · by {text(d.author)}, {when}"
        f"{rating} · {' · '.join(place)}", s.small))  # fmt: skip
    story.append(Spacer(1, 4))

    fit = f"Fit score {d.score}, tier {d.tier}" if d.tier else "Not in any tier"
    why = [["Criterion", "Gave"]] + [[text(c), text(o)] for c, o in d.why]
    block: list[Flowable] = [_Paragraph(f"Why this account: {text(fit)}", s.heading)]
    if d.why:
        block.append(_table(why, [130 * mm, 44 * mm]))
    story.append(KeepTogether(block))

    if d.contacts:
        rows = [["Contact", "Title", "Email", "Phone"]] + [
            [text(c.name) + (" <b>(decision-maker)</b>" if c.decision_maker else ""),
             text(c.title), text(c.email), text(c.phone)]
            for c in d.contacts
        ]  # fmt: skip
        story += [CondPageBreak(28 * mm), _Paragraph("Contacts", s.heading)]
        story.append(_table(rows, [50 * mm, 42 * mm, 50 * mm, 32 * mm]))

    for section, body in d.sections:
        title = text(section.title, BOLD)
        content = section_flowables(body) if body.strip() else []
        if not content:
            note = "Not researched yet (required)." if section.required else "Nothing noted."
            content = [_Paragraph(note, s.missing)]
        # a heading never ends a page; a long text after it flows on from where it starts
        story += [CondPageBreak(28 * mm), _Paragraph(title, s.heading), *content]

    if d.sources:
        story += [CondPageBreak(20 * mm), _Paragraph("Source links", s.heading)]
        for source in d.sources:
            label = f"{text(source.title)} — " if source.title else ""
            story.append(_Paragraph(label + text(source.url), s.bullet, bulletText="•"))
    return story


def write_dossiers(
    dossiers: Iterable[PrintedDossier | PrintedPage],
    path: Path,
    *,
    title: str,
    workspace: str,
    cover_lines: Iterable[str] = (),
    count: int = 0,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> int:
    """Write the dossiers to ``path``; with ``cover_lines`` the document opens with a cover
    and a table of contents (the call pack). Each dossier starts on a new page and keeps to
    it where it fits (:class:`_OnePage`). Returns the number of dossiers written. The file
    appears only when complete. ``workspace`` is the workspace's name for the footer (a PDF
    is handed round: never a path or an address)."""
    check_output(path)
    _fonts()
    today = datetime.now().strftime("%Y-%m-%d")
    footer = " · ".join(part for part in ("Accord", workspace, today) if part)
    cover = list(cover_lines)
    story: list[Flowable] = []
    contents = _Contents() if cover else None
    if cover:
        story += [
            Spacer(1, 60 * mm),
            _Paragraph(text(title, BOLD), _Styles.cover_title),
            Spacer(1, 8),
        ]
        story += [_Paragraph(text(line), _Styles.cover_line) for line in [*cover, today]]
        story += [PageBreak(), _Paragraph("Contents", _Styles.toc_title), contents]
    written = 0
    for n, dossier in enumerate(dossiers):
        if cancel is not None and cancel():
            raise PdfCancelled
        if story:
            story.append(PageBreak())
        story += _dossier_story(dossier, f"d{n}")
        if contents is not None:
            contents.add(dossier.account, f"d{n}")
        written += 1
        if progress is not None:
            progress(written, max(count, written) + 1)  # the last step is laying out pages
    if not written:
        raise AccordError("There is no dossier to print.")
    with writing(path) as partial:
        _Document(partial, footer, title, contents).build(story)
    if progress is not None:
        progress(written + 1, written + 1)
    return written
