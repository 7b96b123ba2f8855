"""A report written to the file a person named: a PDF or a workbook, by its suffix."""

from __future__ import annotations

from pathlib import Path

from domain.errors import AccordError
from domain.progress import Cancel, Progress
from domain.report import Report
from reports.output import check_output
from reports.report_pdf import write_report_pdf
from reports.report_xlsx import write_report_xlsx

#: What a report can be written as.
SUFFIXES = (".pdf", ".xlsx")


class NotAReportFile(AccordError):
    """A report's file must end in .pdf or .xlsx."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path.name}: a report is written as a .pdf or an .xlsx file.")


def check_report_path(path: Path) -> None:
    """Refuse, before any work, a file that is neither a PDF nor a workbook, or a place
    where it cannot be written."""
    if path.suffix.lower() not in SUFFIXES:
        raise NotAReportFile(path)
    check_output(path)


def lists_raw_rows(path: Path) -> bool:
    """Whether a report written to ``path`` lists its raw rows: a workbook does, a PDF prints
    its tables alone."""
    return path.suffix.lower() == ".xlsx"


def write_report(
    report: Report, path: Path, *, progress: Progress | None = None, cancel: Cancel | None = None
) -> str | None:
    """Write ``report`` to ``path`` as its suffix says; the sentence to show when a text
    did not fit whole in a workbook's cell, else None."""
    check_report_path(path)
    if path.suffix.lower() == ".pdf":
        write_report_pdf(report, path, progress=progress, cancel=cancel)
        return None
    return write_report_xlsx(report, path, progress=progress, cancel=cancel).warning
