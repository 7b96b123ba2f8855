"""The import wizard: file → header and column mapping with a preview → duplicates →
import with progress and Cancel → summary, with the rejected rows to save and fix."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import replace
from functools import partial
from pathlib import Path

from PySide6.QtCore import QSignalBlocker, QSize
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from domain.engagement import (
    ENGAGEMENT_FIELDS,
    EngagementKind,
    EngagementOptions,
    check_kind_given,
    check_matched_by,
    engagement_fields,
    engagement_mapping,
    import_engagement,
)
from domain.errors import AccordError
from domain.fields import ACCOUNT_FIELDS, CONTACT_FILE_FIELDS, Field
from domain.importing import (
    CUSTOM,
    IGNORE,
    NAME_PART_LABELS,
    SCALES,
    ImportOptions,
    ImportSummary,
    OnDuplicate,
    RowError,
    apply_saved_mapping,
    auto_mapping,
    column_scales,
    import_file,
    load_mapping,
    mapping_document,
    number_reading,
    shared_fields,
)
from domain.users import User
from domain.values import NUMBER_FORMATS, NumberFormat, NumberReading, clean_text
from reports.output import write_text
from storage.importing.engagement import SqlEngagementImporter
from storage.importing.files import (
    DELIMITERS,
    ENCODINGS,
    CsvReading,
    SourceTable,
    csv_reading,
    is_spreadsheet,
    open_table,
)
from storage.importing.importer import (
    SqlImporter,
    check_mapped_fields,
    number_columns,
    read_numbers,
)
from storage.workspace import Workspace
from ui.messages import plain_label, plain_tooltip
from ui.settings import keep_geometry
from ui.workers import Task, run_task, show_error, show_warning

FILE_FILTER = "Company lists (*.csv *.txt *.xlsx *.xlsm);;All files (*)"
#: The fields of each kind of file the wizard imports.
FIELDS = {
    "accounts": ACCOUNT_FIELDS,
    "contacts": CONTACT_FILE_FIELDS,
    "engagement": ENGAGEMENT_FIELDS,
}


class _Page(QWizardPage):
    @property
    def owner(self) -> ImportWizard:
        """The wizard, as Qt knows it: a page that kept it itself would tie the two in a
        cycle, which leaves the closed wizard to Python's garbage collector, and that may
        delete it in a worker's thread."""
        wizard = self.wizard()
        assert isinstance(wizard, ImportWizard)
        return wizard


class FilePage(_Page):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Choose a file")
        self.setSubTitle("A CSV or Excel file with one row per record and a header row.")
        self.path = QLineEdit()
        self.path.setObjectName("path")
        self.path.setPlaceholderText("File to import")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.browse)
        self.sheet = QComboBox()
        self.sheet.setObjectName("sheet")
        self.sheet.setEnabled(False)
        self.encoding = QComboBox()
        self.encoding.setObjectName("encoding")
        for encoding, name in ENCODINGS.items():
            self.encoding.addItem(name, encoding)
        self.delimiter = QComboBox()
        self.delimiter.setObjectName("delimiter")
        for delimiter, name in DELIMITERS.items():
            self.delimiter.addItem(name.capitalize(), delimiter)
        self.unsure = plain_label("", wrap=True)
        self.unsure.setObjectName("unsure")
        self.path.editingFinished.connect(self.load_sheets)
        row = QHBoxLayout()
        row.addWidget(self.path)
        row.addWidget(browse)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(plain_label("Sheet (Excel files):"))
        layout.addWidget(self.sheet)
        layout.addWidget(plain_label("Encoding (CSV files):"))
        layout.addWidget(self.encoding)
        layout.addWidget(plain_label("Columns separated by (CSV files):"))
        layout.addWidget(self.delimiter)
        layout.addWidget(self.unsure)
        layout.addStretch()
        self._show_reading(None)

    def browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Import", "", FILE_FILTER)
        if name:
            self.path.setText(name)
            self.load_sheets()

    guess: CsvReading | None = None

    def _show_reading(self, path: Path | None) -> None:
        """The encoding and delimiter a CSV file is read with, as guessed from its first
        lines, for the user to change; nothing to choose for a workbook."""
        reading = None
        if path is not None and path.is_file() and not is_spreadsheet(path):
            with suppress(AccordError, OSError):  # said when the user goes on with the file
                reading = csv_reading(path)
        self.guess = reading
        for combo in (self.encoding, self.delimiter):
            combo.setEnabled(reading is not None)
        self.unsure.setText("")
        if reading is None:
            return
        self.encoding.setCurrentIndex(self.encoding.findData(reading.encoding))
        self.delimiter.setCurrentIndex(self.delimiter.findData(reading.delimiter))
        if reading.unsure:
            self.unsure.setText(
                f"Accord guessed the encoding, {ENCODINGS[reading.encoding]}, but another one "
                "fits the file as well: check the names in the preview on the next page, and "
                "come back to choose another encoding if they look wrong."
            )

    def load_sheets(self) -> None:
        path = Path(self.path.text().strip())
        self._show_reading(path)
        self.sheet.clear()
        self.sheet.setEnabled(False)
        if path.is_file() and is_spreadsheet(path):
            try:
                table = open_table(path, self.owner.fields)
            except AccordError:
                return
            self.sheet.addItems(table.sheets)
            self.sheet.setCurrentText(table.sheet or "")
            self.sheet.setEnabled(len(table.sheets) > 1)

    def validatePage(self) -> bool:
        path = Path(self.path.text().strip())
        sheet = self.sheet.currentText() or None
        encoding = delimiter = None  # guessed again, so that the guess is said to be one
        if self.guess and self.encoding.currentData() != self.guess.encoding:
            encoding = self.encoding.currentData()
        if self.guess and self.delimiter.currentData() != self.guess.delimiter:
            delimiter = self.delimiter.currentData()
        try:
            self.owner.table = open_table(path, self.owner.fields, sheet, encoding, delimiter)
            # Read here, where a refusal is said: a hostile row may sit among the first.
            self.owner.preview = self.owner.table.preview()
        except AccordError as error:
            show_error(self, "Cannot import this file", error)
            return False
        return True


def _shown(cell: str, field: Field | None, scale: int, numbers: NumberFormat) -> str:
    """A preview's cell: a scaled amount as it will be imported, any other cell as it is."""
    if field is None or scale == 1:
        return cell
    try:
        value = field.parse(cell, scale, numbers)
    except ValueError:
        return cell  # the import says why, row by row
    return f"{value:,}" if isinstance(value, int) else cell


class MappingPage(_Page):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Match the columns")
        self.found = plain_label("", wrap=True)
        self.columns = QTableWidget(0, 4)
        self.columns.setObjectName("mapping")
        self.columns.setHorizontalHeaderLabels(
            ["Column in the file", "Import as", "Unit", "First value"]
        )
        self.columns.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.columns.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.preview = QTableWidget()
        self.preview.setObjectName("preview")
        self.preview.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.preview.horizontalHeader().setMaximumSectionSize(260)
        save, load = QPushButton("Save mapping…"), QPushButton("Load mapping…")
        save.clicked.connect(self.save)
        load.clicked.connect(self.load)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(load)
        buttons.addWidget(save)
        layout = QVBoxLayout(self)
        layout.addWidget(self.found)
        layout.addWidget(self.columns, 2)
        self.shared = plain_label("", wrap=True)
        self.shared.setObjectName("shared")
        layout.addWidget(self.shared)
        self.numbers = QComboBox()
        self.numbers.setObjectName("numbers")
        for example, numbers in NUMBER_FORMATS.items():
            self.numbers.addItem(f"{example} ({numbers.said})", example)
        self.numbers.currentIndexChanged.connect(self._refresh)
        self.numbers_said = plain_label("", wrap=True)
        self.numbers_said.setObjectName("numbers_said")
        numbers_row = QHBoxLayout()
        self.numbers_label = plain_label("Numbers written as:")
        numbers_row.addWidget(self.numbers_label)
        numbers_row.addWidget(self.numbers)
        numbers_row.addStretch()
        layout.addLayout(numbers_row)
        layout.addWidget(self.numbers_said)
        layout.addLayout(buttons)
        layout.addWidget(plain_label("Preview of the first rows:", wrap=True))
        layout.addWidget(self.preview, 3)
        self.combos: list[QComboBox] = []
        self.units: list[QComboBox] = []
        #: How the file's numbers read, decided once for each set of number columns.
        self.readings: dict[tuple[int, ...], NumberReading | None] = {}
        self.guess: NumberReading | None = None

    def _choices(self) -> list[tuple[str, str]]:
        choices = [("(ignore)", IGNORE)] + [(f.label, f.name) for f in self.owner.fields]
        if self.owner.kind == "contacts":
            choices += [(label, part) for part, label in NAME_PART_LABELS.items()]
        return choices

    def initializePage(self) -> None:
        table = self.owner.table
        assert table is not None
        where = f" on sheet '{table.sheet}'" if table.sheet else ""
        self.found.setText(
            " ".join(
                [
                    f"Header found on row {table.header_row}{where}.",
                    *table.notes,
                    "Check what each column is imported as.",
                ]
            )
        )
        self.readings, self.guess = {}, None
        self.columns.setColumnHidden(2, not any(f.scalable for f in self.owner.fields))
        for widget in (self.numbers_label, self.numbers):  # an engagement file has no numbers
            widget.setVisible(any(f.numeric for f in self.owner.fields))
        mapped_fields = self.owner.kept(auto_mapping(table.headers, self.owner.fields))
        self._show(mapped_fields, [1] * len(table.headers))

    def _show(self, mapped_fields: list[str], scales: list[int]) -> None:
        table = self.owner.table
        assert table is not None
        rows = self.owner.preview
        self.columns.setRowCount(len(table.headers))
        self.combos, self.units = [], []
        for index, header in enumerate(table.headers):
            self.columns.setItem(index, 0, QTableWidgetItem(header))
            combo = QComboBox()
            for label, mapped_to in self._choices():
                combo.addItem(label, mapped_to)
            custom = CUSTOM + header.strip() if header.strip() else None
            if custom and self.owner.kind != "engagement":  # an engagement has no custom fields
                combo.addItem(f"Custom field “{header.strip()}”", custom)
            combo.setCurrentIndex(max(0, combo.findData(mapped_fields[index])))
            combo.currentIndexChanged.connect(self._refresh)
            self.columns.setCellWidget(index, 1, combo)
            self.combos.append(combo)
            unit = QComboBox()
            for scale, label in SCALES.items():
                unit.addItem(label, scale)
            unit.setCurrentIndex(max(0, unit.findData(scales[index])))
            unit.currentIndexChanged.connect(self._refresh)
            self.columns.setCellWidget(index, 2, unit)
            self.units.append(unit)
            sample = next((cells[index] for _, cells in rows if cells[index].strip()), "")
            self.columns.setItem(index, 3, QTableWidgetItem(sample))
        self.preview.setColumnCount(len(table.headers))
        self.preview.setHorizontalHeaderLabels(table.headers)
        self.preview.setRowCount(len(rows))
        self.preview.setVerticalHeaderLabels([str(n) for n, _ in rows])
        self._refresh()

    def _refresh(self) -> None:
        """After a column's field or unit changed: a unit only for an amount, the preview
        as it will be imported, and which fields take the first filled of several columns."""
        table = self.owner.table
        assert table is not None
        fields = {f.name: f for f in self.owner.fields}
        for combo, unit in zip(self.combos, self.units, strict=True):
            chosen = fields.get(str(combo.currentData()))
            unit.setEnabled(chosen is not None and chosen.scalable)
            if not unit.isEnabled():
                unit.setCurrentIndex(unit.findData(1))
        numbers = self._show_numbers()
        for r, (_, cells) in enumerate(self.owner.preview):
            for c, (cell, mapped_to, scale) in enumerate(
                zip(cells, self.mapped_fields(), self.scales(), strict=False)
            ):
                shown = _shown(cell, fields.get(mapped_to), scale, numbers)
                self.preview.setItem(r, c, QTableWidgetItem(shown))
        self.preview.resizeColumnsToContents()
        said = shared_fields(table.headers, self.mapped_fields(), self.owner.fields)
        self.shared.setText(" ".join(said))
        self.shared.setVisible(bool(said))

    def _show_numbers(self) -> NumberFormat:
        """How the file's numbers read with the columns as mapped now: decided from the
        numbers of its first rows (again when another column is mapped to a number), unless
        the user chose a format; said beside the choice. Returns the format."""
        table = self.owner.table
        assert table is not None
        mapped_fields = self.mapped_fields()
        columns = tuple(number_columns(mapped_fields, self.owner.fields))
        if columns not in self.readings:
            self.readings[columns] = read_numbers(table, mapped_fields, self.owner.fields, None)
        user_chose = self.chosen_numbers() is not None  # as against the guess so far
        self.guess = self.readings[columns]
        if self.guess is not None and not user_chose:
            with QSignalBlocker(self.numbers):  # the guess is no choice of the user's
                self.numbers.setCurrentIndex(self.numbers.findData(self.guess.numbers.example))
        self.numbers.setEnabled(self.guess is not None)
        numbers = NUMBER_FORMATS[str(self.numbers.currentData())]
        said = self.guess
        if said is not None and (chosen := self.chosen_numbers()) is not None:
            said = number_reading((), chosen)
        self.numbers_said.setText(said.describe(table.path.name) if said else "")
        self.numbers_said.setVisible(said is not None)
        if not table.is_csv and table.decimal != numbers.decimal:
            # a workbook's real numbers are written out in the format: read the preview again
            self.owner.table = replace(table, decimal=numbers.decimal)
            self.owner.preview = self.owner.table.preview()
        return numbers

    def chosen_numbers(self) -> str | None:
        """The number format the user chose, when it is not the one guessed."""
        chosen = str(self.numbers.currentData())
        if self.guess is None or chosen == self.guess.numbers.example:
            return None
        return chosen

    def mapped_fields(self) -> list[str]:
        return [str(combo.currentData()) for combo in self.combos]

    def scales(self) -> list[int]:
        """What each column's amounts are multiplied by (1 but for a scaled amount)."""
        return [int(unit.currentData()) for unit in self.units]

    def scaled_columns(self) -> dict[str, int]:
        assert self.owner.table is not None
        headers = self.owner.table.headers
        return {h: scale for h, scale in zip(headers, self.scales(), strict=True) if scale != 1}

    def validatePage(self) -> bool:
        table = self.owner.table
        assert table is not None
        try:
            if self.owner.kind == "engagement":  # its kind may be chosen on the next page
                check_matched_by(table.path.name, self.mapped_fields())
                check_mapped_fields(table, self.mapped_fields(), engagement_fields(True))
            else:
                check_mapped_fields(table, self.mapped_fields(), self.owner.fields)
        except AccordError as error:
            show_error(self, "Check the columns", error)
            return False
        return True

    def save(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Save mapping", "mapping.json", "*.json")
        if not name or self.owner.table is None:
            return
        try:
            document = mapping_document(
                self.owner.table.headers, self.mapped_fields(), self.scales()
            )
            write_text(Path(name), document)
        except AccordError as error:
            show_error(self, "Mapping not saved", error)

    def load(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Load mapping", "", "*.json")
        if not name or self.owner.table is None:
            return
        try:
            saved = load_mapping(Path(name))
            headers, fields = self.owner.table.headers, self.owner.fields
            mapped_fields = self.owner.kept(apply_saved_mapping(headers, saved.fields, fields))
            scales = column_scales(headers, mapped_fields, saved.scales, fields)
            self._show(mapped_fields, scales)
        except AccordError as error:
            show_error(self, "Mapping not loaded", error)


class _ImportPage(_Page):
    """The page whose Import button starts the import: once imported, there is no going
    back (undo is in the import history)."""

    def __init__(self) -> None:
        super().__init__()
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "Import")
        self.strict = QCheckBox("Refuse the whole file if any row is bad")
        self.strict.setObjectName("strict")

    def validatePage(self) -> bool:
        if self.owner.summary is not None:
            return True
        if self.ready():
            self.owner.start_import()
        return False

    def ready(self) -> bool:
        """Whether what the page asks is answered."""
        return True


class DuplicatesPage(_ImportPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Duplicates")
        self.setSubTitle(
            "A row is a duplicate when its website matches a record, or its name "
            "and country do. What should happen then? (A row whose website matches but "
            "whose name and country both differ is imported apart, as a possible duplicate "
            "to review.)"
        )
        self.choice = QButtonGroup(self)
        layout = QVBoxLayout(self)
        for policy, text in (
            (OnDuplicate.SKIP, "Skip it: keep the record as it is"),
            (OnDuplicate.FILL, "Fill empty fields of the record from the file"),
            (OnDuplicate.OVERWRITE, "Overwrite the record with the file's values"),
        ):
            button = QRadioButton(text)
            button.setObjectName(policy.value)
            button.setChecked(policy is OnDuplicate.SKIP)
            self.choice.addButton(button)
            layout.addWidget(button)
        layout.addSpacing(12)
        layout.addWidget(self.strict)
        layout.addStretch()

    def policy(self) -> OnDuplicate:
        checked = self.choice.checkedButton()
        return OnDuplicate(checked.objectName()) if checked else OnDuplicate.SKIP


class EngagementPage(_ImportPage):
    """How rows find their account, and what a row takes when the file does not say it:
    the kind of every row (an attendee list has no kind column), a campaign, a source."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Accounts, kind and campaign")
        self.setSubTitle(
            "Each row is matched to an account by a contact's e-mail, else by a website's "
            "domain (the e-mail's own domain when the row has no website), else by the "
            "account's name. A row that matches no account, or several, is not imported: it "
            "is listed with its row number, and Save rejected rows… writes it to a file."
        )
        self.kind = QComboBox()
        self.kind.setObjectName("kind")
        self.campaign = QLineEdit()
        self.campaign.setObjectName("campaign")
        self.campaign.setPlaceholderText("Kept as given, for the closed loop by campaign")
        self.source = QLineEdit()
        self.source.setObjectName("source")
        self.source.setPlaceholderText("Kept as given, for the closed loop by source")
        form = QFormLayout()
        form.addRow(plain_label("Kind of every row:"), self.kind)
        form.addRow(plain_label("Campaign of rows without one:"), self.campaign)
        form.addRow(plain_label("Source of rows without one:"), self.source)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addSpacing(12)
        layout.addWidget(self.strict)
        layout.addStretch()

    def initializePage(self) -> None:
        table = self.owner.table
        assert table is not None
        headers = zip(table.headers, self.owner.mapping_page.mapped_fields(), strict=True)
        column = next((h for h, mapped_to in headers if mapped_to == "kind"), None)
        self.kind.clear()
        if column is not None:
            self.kind.addItem(f"Each row's own, from the column '{column.strip()}'", None)
        else:
            self.kind.addItem("Choose the kind of every row…", None)
            for kind in EngagementKind:
                self.kind.addItem(kind.label, kind.value)
        self.kind.setEnabled(column is None)

    def chosen_kind(self) -> EngagementKind | None:
        value = self.kind.currentData()
        return EngagementKind(value) if value else None

    def ready(self) -> bool:
        table = self.owner.table
        assert table is not None
        try:
            mapped_fields = self.owner.mapping_page.mapped_fields()
            check_kind_given(table.path.name, mapped_fields, self.chosen_kind())
        except AccordError as error:
            show_error(self, "Choose a kind", error)
            return False
        return True

    def options(self, read: ImportOptions) -> EngagementOptions:
        """The options of the import: how the file is ``read``, and this page's answers."""
        return EngagementOptions(
            mapped_fields=read.mapped_fields,
            sheet=read.sheet,
            encoding=read.encoding,
            delimiter=read.delimiter,
            kind=self.chosen_kind(),
            campaign=clean_text(self.campaign.text()).strip() or None,
            source=clean_text(self.source.text()).strip() or None,
            strict=self.strict.isChecked(),
        )


def _row_errors(name: str, reason: str) -> QTableWidget:
    """A table of cells the import names by row and column, with why."""
    table = QTableWidget(0, 3)
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(["Row", "Column", reason])
    table.horizontalHeader().setStretchLastSection(True)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()  # the file's row number is the first column
    return table


def _show_row_errors(table: QTableWidget, errors: Sequence[RowError]) -> None:
    table.setVisible(bool(errors))
    table.setRowCount(len(errors))
    for row, error in enumerate(errors):
        for column, value in enumerate((str(error.row), error.column, error.reason)):
            table.setItem(row, column, QTableWidgetItem(value))


class SummaryPage(_Page):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Import finished")
        self.counts = plain_label("", wrap=True)
        self.counts.setObjectName("counts")
        self.unknown_countries = plain_label("", wrap=True)
        self.unknown_countries.setObjectName("unknown_countries")
        self.mapping = plain_label("", wrap=True)
        self.mapping.setObjectName("mapping")
        self.bands = plain_label("", wrap=True)
        self.bands.setObjectName("bands")
        self.errors = _row_errors("rejected", "Rejected: why")
        self.warnings = _row_errors("unread", "Imported, this cell left empty: why")
        self.save = QPushButton("Save rejected rows…")
        self.save.clicked.connect(self.save_rejects)
        self.matched = QTableWidget(0, 2)
        self.matched.setObjectName("matched")
        self.matched.setHorizontalHeaderLabels(["Row", "Duplicate: what became of it"])
        self.matched.horizontalHeader().setStretchLastSection(True)
        self.matched.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.matched.verticalHeader().hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.counts)
        layout.addWidget(self.mapping)
        layout.addWidget(self.bands)
        layout.addWidget(self.unknown_countries)
        layout.addWidget(self.matched)
        layout.addWidget(self.warnings)
        layout.addWidget(self.errors)
        layout.addWidget(self.save)

    def initializePage(self) -> None:
        summary = self.owner.summary
        assert summary is not None
        where = (
            ""
            if self.owner.kind == "engagement"
            else ", where its possible duplicates are merged or kept both"
        )
        self.counts.setText(
            f"{' · '.join(summary.tally())}\n"
            f"Import batch {summary.batch_id} (it can be undone from File › Import history"
            f"{where})."
        )
        self.mapping.setText(summary.mapping)
        self.bands.setText(summary.bands_line())
        self.bands.setVisible(bool(summary.bands))
        self.unknown_countries.setText(summary.unknown_countries_line())
        self.unknown_countries.setVisible(bool(summary.unknown_countries))
        self.matched.setRowCount(len(summary.matched))
        for row, matched in enumerate(summary.matched):
            said = QTableWidgetItem(matched.said())
            said.setToolTip(plain_tooltip(matched.said()))  # a long sentence is cut
            self.matched.setItem(row, 0, QTableWidgetItem(str(matched.row)))
            self.matched.setItem(row, 1, said)
        self.matched.setVisible(bool(summary.matched))
        if more_warned := summary.more_warned():
            self.counts.setText(f"{self.counts.text()}\n{more_warned}")
        if more := summary.more():
            self.counts.setText(
                f"{self.counts.text()}\n{more} Save rejected rows… writes all {summary.rejected:,}."
            )
        _show_row_errors(self.warnings, summary.warnings)
        _show_row_errors(self.errors, summary.errors)
        self.save.setEnabled(bool(summary.rejected))

    def save_rejects(self) -> None:
        summary = self.owner.summary
        name, _ = QFileDialog.getSaveFileName(self, "Save rejected rows", "rejected.csv", "*.csv")
        if name and summary is not None:
            self.owner.write_rejects(summary, Path(name))


class ImportWizard(QWizard):
    def __init__(
        self,
        workspace: Workspace,
        user: User,
        kind: str = "accounts",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.workspace, self.user, self.kind = workspace, user, kind
        self.fields = FIELDS[kind]
        self.table: SourceTable | None = None
        self.preview: list[tuple[int, list[str]]] = []
        self.summary: ImportSummary | None = None
        self.task: Task | None = None
        self.setWindowTitle(f"Import {kind}")
        keep_geometry(self, QSize(820, 640))
        self.file_page, self.mapping_page = FilePage(), MappingPage()
        self.duplicates_page, self.engagement_page = DuplicatesPage(), EngagementPage()
        self.summary_page = SummaryPage()
        import_page = self.engagement_page if kind == "engagement" else self.duplicates_page
        for page in (self.file_page, self.mapping_page, import_page, self.summary_page):
            self.addPage(page)

    def kept(self, mapped_fields: list[str]) -> list[str]:
        """A mapping as this kind of file keeps it (an engagement has no custom fields)."""
        return engagement_mapping(mapped_fields) if self.kind == "engagement" else mapped_fields

    def start_import(self) -> None:
        assert self.table is not None
        path = self.table.path
        reading = self.table.reading
        read = ImportOptions(
            mapped_fields=self.mapping_page.mapped_fields(),
            sheet=self.table.sheet,
            encoding=reading.encoding if reading else None,
            delimiter=reading.delimiter if reading else None,
        )
        user, kind = self.user, self.kind
        if kind == "engagement":
            engagement = self.engagement_page.options(read)
            importer = SqlEngagementImporter(self.workspace)
            work = partial(import_engagement, importer, user, path, engagement)
        else:
            options = replace(
                read,
                scales=self.mapping_page.scaled_columns(),
                numbers=self.mapping_page.chosen_numbers(),  # None: decided again, and said so
                on_duplicate=self.duplicates_page.policy(),
                strict=self.duplicates_page.strict.isChecked(),
            )
            work = partial(import_file, SqlImporter(self.workspace), user, path, kind, options)
        self.task = run_task(self, f"Importing {path.name}", work, self._finished)

    def _finished(self, summary: ImportSummary) -> None:
        self.summary = summary
        self.next()

    def write_rejects(self, summary: ImportSummary, path: Path) -> None:
        from reports.rejects import rejects_table
        from reports.tabular import write_table

        try:
            written = write_table(rejects_table(summary), path)
        except AccordError as error:
            show_error(self, "Not saved", error)
            return
        if written.warning:
            show_warning(self, "Rejected rows", written.warning)
