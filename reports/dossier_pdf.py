"""The dossier PDF and the rep's call pack (ReportLab): a dossier's sections from their
CommonMark, each dossier on one page where it fits, the cover and contents; set with
:mod:`reports.pdf_kit`, which the reports and the call sheets share."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Protocol

from markdown_it import MarkdownIt
from markdown_it.token import Token
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    HRFlowable,
    KeepInFrame,
    KeepTogether,
    PageBreak,
    Spacer,
)
from reportlab.platypus.flowables import _listWrapOn

from domain.dossiers import PrintedDossier
from domain.errors import AccordError
from domain.progress import Cancel, Progress
from domain.values import clean_text, shown_time
from reports.output import check_output, writing
from reports.pdf_kit import (
    BOLD,
    BOLD_ITALIC,
    ITALIC,
    RULE,
    SANS,
    Contents,
    Document,
    Heading,
    PdfCancelled,
    PdfParagraph,
    Styles,
    load_fonts,
    styled_table,
    text,
)


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
_HEADINGS = {"h1": Styles.subheading, "h2": Styles.subheading}
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
                self.add("", Styles.body)  # an item with nothing in it
            elif kind == "inline":
                opening = tokens[n - 1]
                style = _HEADINGS.get(opening.tag, Styles.minor_heading)
                if opening.type != "heading_open":
                    style = Styles.quote if self.quotes else Styles.body
                self.add(_inline(token.children or [], bold=style.fontName == BOLD), style)
            elif kind in ("fence", "code_block"):
                lines = token.content.rstrip("\n").split("\n")
                self.add("<br/>".join(text(ln).replace(" ", "&nbsp;") for ln in lines), Styles.code)
            elif kind == "hr":
                self.out.append(HRFlowable(width="100%", thickness=0.5, color=RULE,
                                           spaceBefore=3, spaceAfter=5))  # fmt: skip
        return self.out

    def add(self, markup: str, style: ParagraphStyle) -> None:
        style = _indented(style, self.depth) if self.depth else style
        self.out.append(PdfParagraph(markup, style, bulletText=self.marker))
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


class PrintedPage(Protocol):
    """An account's page of the call pack that is not a dossier (a call sheet): the
    account's name and what prints below it."""

    @property
    def account(self) -> str: ...
    def content(self) -> list[Flowable]: ...


def _dossier_story(d: PrintedDossier | PrintedPage, key: str) -> list[Flowable]:
    """The account's name, and below it the dossier on one page where it fits."""
    content = _dossier_content(d) if isinstance(d, PrintedDossier) else d.content()
    return [Heading(d.account, key), _OnePage(content)]


def _dossier_content(d: PrintedDossier) -> list[Flowable]:
    s = Styles
    story: list[Flowable] = []
    facts = " · ".join(f"{text(label)}: {text(value)}" for label, value in d.facts)
    if facts:
        story.append(PdfParagraph(facts, s.small))
    when = shown_time(d.updated_at, "%Y-%m-%d") if d.updated_at else ""
    place = [f"Owner: {text(d.owner)}" if d.owner else "No owner yet"]
    if d.priority is not None:
        place.append(f"priority {d.priority}")
    if d.stage:
        place.append(text(d.stage))
    rating = f" · rated {d.rating:.1f}/5 by {d.ratings}" if d.rating is not None else ""
    story.append(PdfParagraph(
        f"Dossier {d.status} · {d.completeness}% complete · by {text(d.author)}, {when}"
        f"{rating} · {' · '.join(place)}", s.small))  # fmt: skip
    story.append(Spacer(1, 4))

    fit = f"Fit score {d.score}, tier {d.tier}" if d.tier else "Not in any tier"
    why = [["Criterion", "Gave"]] + [[text(c), text(o)] for c, o in d.why]
    block: list[Flowable] = [PdfParagraph(f"Why this account: {text(fit)}", s.heading)]
    if d.why:
        block.append(styled_table(why, [130 * mm, 44 * mm]))
    story.append(KeepTogether(block))

    if d.contacts:
        rows = [["Contact", "Title", "Email", "Phone"]] + [
            [text(c.name) + (" <b>(decision-maker)</b>" if c.decision_maker else ""),
             text(c.title), text(c.email), text(c.phone)]
            for c in d.contacts
        ]  # fmt: skip
        story += [CondPageBreak(28 * mm), PdfParagraph("Contacts", s.heading)]
        story.append(styled_table(rows, [50 * mm, 42 * mm, 50 * mm, 32 * mm]))

    for section, body in d.sections:
        title = text(section.title, BOLD)
        content = section_flowables(body) if body.strip() else []
        if not content:
            note = "Not researched yet (required)." if section.required else "Nothing noted."
            content = [PdfParagraph(note, s.missing)]
        # a heading never ends a page; a long text after it flows on from where it starts
        story += [CondPageBreak(28 * mm), PdfParagraph(title, s.heading), *content]

    if d.sources:
        story += [CondPageBreak(20 * mm), PdfParagraph("Source links", s.heading)]
        for source in d.sources:
            label = f"{text(source.title)} — " if source.title else ""
            story.append(PdfParagraph(label + text(source.url), s.bullet, bulletText="•"))
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
    load_fonts()
    today = datetime.now().strftime("%Y-%m-%d")
    footer = " · ".join(part for part in ("Accord", workspace, today) if part)
    cover = list(cover_lines)
    story: list[Flowable] = []
    contents = Contents() if cover else None
    if cover:
        story += [
            Spacer(1, 60 * mm),
            PdfParagraph(text(title, BOLD), Styles.cover_title),
            Spacer(1, 8),
        ]
        story += [PdfParagraph(text(line), Styles.cover_line) for line in [*cover, today]]
        story += [PageBreak(), PdfParagraph("Contents", Styles.toc_title), contents]
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
        Document(partial, footer, title, contents).build(story)
    if progress is not None:
        progress(written + 1, written + 1)
    return written
