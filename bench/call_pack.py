"""The rep's call pack: time to print 200 dossiers as one PDF, against writing the same
text as a plain ReportLab document (no fonts, cover, contents or tables) in the same run.

    python bench/call_pack.py --dossiers 200
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

from domain.dossiers import PrintedDossier
from reports.dossier_pdf import write_dossiers
from storage.demo.build import build_demo
from storage.dossiers import DossierFilter, dossier_lines
from storage.read_models.dossier_print import printed_dossiers
from storage.workspace import open_workspace


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dossiers", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        workspace = open_workspace(Path(folder) / "demo.sqlite")
        build_demo(workspace, accounts=3000, seed=1, owner_name="Bench")
        lines = dossier_lines(workspace, DossierFilter(), limit=1000)
        read = list(printed_dossiers(workspace, [line.account_id for line in lines]))
        # as many dossiers as asked, cycling through the demo's (each a full dossier)
        full = [d for d in read if d.completeness == 100]
        pack: list[PrintedDossier] = [
            replace(full[n % len(full)], account=f"{full[n % len(full)].account} #{n}")
            for n in range(args.dossiers)
        ]

        styles = getSampleStyleSheet()
        start = time.perf_counter()
        story = []
        for d in pack:
            story.append(Paragraph(d.account, styles["Heading1"]))
            story += [Paragraph(body or "-", styles["BodyText"]) for _, body in d.sections]
            story.append(PageBreak())
        SimpleDocTemplate(str(Path(folder) / "plain.pdf")).build(story)
        baseline = time.perf_counter() - start

        out = Path(folder) / "pack.pdf"
        start = time.perf_counter()
        write_dossiers(pack, out, title="Call pack", workspace="bench",
                       cover_lines=["for Bench"], count=len(pack))  # fmt: skip
        took = time.perf_counter() - start
        pages = len(__import__("pypdf").PdfReader(out).pages)
    verdict = "ok" if took <= 10 else "SLOW"
    print(f"{args.dossiers} dossiers, {pages} pages")
    print(f"  baseline: plain ReportLab, same text   {baseline:6.2f} s")
    print(f"  call pack (cover, contents, tables)    {took:6.2f} s  (target <= 10 s, {verdict}); "
          f"{took / baseline:.1f}x the baseline")  # fmt: skip


if __name__ == "__main__":
    main()
