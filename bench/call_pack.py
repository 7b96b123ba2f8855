"""The rep's call pack: time to print 200 dossiers as one PDF, against writing the same
text as a plain ReportLab document (no fonts, cover, contents or tables) in the same run,
and against the floor: the pack's own paragraphs and tables (its fonts, lists, tables)
set by ReportLab in one plain pass, with no cover, contents, footers or fitting a dossier
to its page. What the pack costs beyond the floor is ours; the floor is ReportLab's.

    python bench/call_pack.py --dossiers 200 [--runs 3]

Each figure is the median of the runs, each run in a fresh process (as the first print
of a session is: the fonts are read then), in CPU seconds: the work is one thread's, and
on a machine shared with other work the clock on the wall swings with their load.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pypdf import PdfReader
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

from domain.dossiers import PrintedDossier
from reports import dossier_pdf, pdf_kit
from storage.demo.build import build_demo
from storage.dossiers import DossierFilter, dossier_lines
from storage.read_models.dossier_print import printed_dossiers
from storage.workspace import open_workspace


def plain(dossiers: list[PrintedDossier], out: Path) -> None:
    styles = getSampleStyleSheet()
    story = []
    for d in dossiers:
        story.append(Paragraph(d.account, styles["Heading1"]))
        story += [Paragraph(body or "-", styles["BodyText"]) for _, body in d.sections]
        story.append(PageBreak())
    SimpleDocTemplate(str(out)).build(story)


def floor(dossiers: list[PrintedDossier], out: Path) -> None:
    pdf_kit.load_fonts()
    story = []
    for n, d in enumerate(dossiers):  # the pack's own flowables, as write_dossiers makes them
        story += [pdf_kit.Heading(d.account, f"d{n}"), *dossier_pdf._dossier_content(d)]
        story.append(PageBreak())
    SimpleDocTemplate(str(out)).build(story)


def call_pack(dossiers: list[PrintedDossier], out: Path) -> None:
    dossier_pdf.write_dossiers(dossiers, out, title="Call pack", workspace="bench",
                               cover_lines=["for Bench"], count=len(dossiers))  # fmt: skip


KINDS = {"plain": plain, "floor": floor, "pack": call_pack}


def timed(kind: str, dossiers: list[PrintedDossier], out: Path) -> float:
    start = time.process_time()
    KINDS[kind](dossiers, out)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dossiers", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    kinds = tuple(KINDS)
    with tempfile.TemporaryDirectory() as folder:
        workspace = open_workspace(Path(folder) / "demo.sqlite")
        build_demo(workspace, accounts=3000, seed=1, owner_name="Bench")
        lines = dossier_lines(workspace, DossierFilter(), limit=1000)
        read = list(printed_dossiers(workspace, [line.account_id for line in lines]))
        workspace.close()
        # as many dossiers as asked, cycling through the demo's (each a full dossier)
        full = [d for d in read if d.completeness == 100]
        dossiers: list[PrintedDossier] = [
            replace(full[n % len(full)], account=f"{full[n % len(full)].account} #{n}")
            for n in range(args.dossiers)
        ]
        times: dict[str, list[float]] = {kind: [] for kind in kinds}
        spawn = multiprocessing.get_context("spawn")
        with spawn.Pool(1, maxtasksperchild=1) as pool:  # a fresh process for each run
            for _ in range(args.runs):
                for kind in kinds:
                    out = Path(folder) / f"{kind}.pdf"
                    times[kind].append(pool.apply(timed, (kind, dossiers, out)))
        pages = len(PdfReader(Path(folder) / "pack.pdf").pages)
    base, least, took = (statistics.median(times[kind]) for kind in kinds)
    ratios = [p / b for p, b in zip(times["pack"], times["plain"], strict=True)]
    floors = [f / b for f, b in zip(times["floor"], times["plain"], strict=True)]
    ratio, floor_ratio = statistics.median(ratios), statistics.median(floors)
    print(f"{args.dossiers} dossiers, {pages} pages (CPU seconds, median of {args.runs} runs)")
    print(f"  baseline: plain ReportLab, same text             {base:6.2f} s")
    print(f"  floor: the pack's own paragraphs and tables,     {least:6.2f} s  "
          f"({floor_ratio:.1f}x the baseline)")  # fmt: skip
    print("         one plain ReportLab pass")
    print(f"  call pack (cover, contents, tables)              {took:6.2f} s  "
          f"({took / least:.2f}x the floor)")  # fmt: skip
    print(f"ratio to plain ReportLab: {ratio:.1f}x (target <= 3x)")
    if floor_ratio > 3:
        print(f"  3x is below what ReportLab takes for this content: its floor is "
              f"{floor_ratio:.1f}x")  # fmt: skip


if __name__ == "__main__":
    main()
