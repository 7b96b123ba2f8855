"""Field feedback: what reps reported back, as marketing reads it (filtered, paged, the
corrected entries left out), and who may read whose."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QAction
from sqlalchemy import update

from domain.accounts import create_account
from domain.errors import PermissionDenied
from domain.icp import IdealCustomerProfile, save_icp
from domain.interactions import (
    Channel,
    Interaction,
    LeadVerdict,
    Outcome,
    correct_interaction,
    log_interaction,
    read_feedback,
)
from domain.targets import add_to_target_list, assign_owners
from domain.users import Role, add_user
from storage.icps import SqlIcpStore
from storage.read_models.account_list import targets
from storage.read_models.field_feedback import FeedbackFilter, feedback_choices, feedback_page
from storage.repositories import SqlUnitOfWork
from storage.scores import scores
from storage.users import SqlUserStore
from ui import field_feedback
from ui.account_dialog import AccountDialog
from ui.field_feedback import FeedbackColumn, FieldFeedback

NOW = datetime.now(UTC) + timedelta(minutes=1)


def _log(workspace, user, account_id, minutes_ago, outcome=Outcome.CONVERSATION, **values):
    entry = Interaction(account_id, Channel.CALL, outcome, NOW - timedelta(minutes=minutes_ago),
                        **values)  # fmt: skip
    return log_interaction(SqlUnitOfWork(workspace), user, entry, now=NOW).interaction


@pytest.fixture
def field(workspace, people):
    """Two reps' feedback on two listed accounts of other industries and sources."""
    owner, rita = people[Role.OWNER], people[Role.REP]
    ravi = add_user(SqlUserStore(workspace), owner, "Ravi Rep", Role.REP)
    uow = SqlUnitOfWork(workspace)
    acme = create_account(uow, owner, {"name": "Acme GmbH", "industry": "Machinery",
                                       "source": "Trade fair"})  # fmt: skip
    beta = create_account(uow, owner, {"name": "Beta <b>Labs</b>", "industry": "Software",
                                       "source": "Webinar"})  # fmt: skip
    add_to_target_list(uow, owner, [acme.id, beta.id], "fits")
    assign_owners(uow, owner, {acme.id: rita.id, beta.id: ravi.id})
    _log(workspace, rita, acme.id, 50, Outcome.NO_ANSWER)  # no feedback: not a line
    _log(workspace, rita, acme.id, 40, learned="=Budget in Q1", quality=4,
         lead=LeadVerdict.ACCEPTED)  # fmt: skip
    wrong = _log(workspace, ravi, beta.id, 30, quality=1)
    correct_interaction(
        SqlUnitOfWork(workspace), ravi, wrong.id,
        Interaction(beta.id, Channel.CALL, Outcome.CONVERSATION, wrong.at, quality=2,
                    lead=LeadVerdict.REJECTED, reason="No budget until 2027"),
        now=NOW,
    )  # fmt: skip
    _log(workspace, ravi, beta.id, 10, learned="Uses a rival's CRM")
    return acme, beta, ravi


def _shown(workspace, chosen=None, **page):  # type: ignore[no-untyped-def]
    chosen = chosen or FeedbackFilter()
    return [(line.rep, line.account, line.rating, line.learned or line.reason)
            for line in feedback_page(workspace, chosen, **page)]  # fmt: skip


def test_feedback_is_newest_first_without_the_corrected_entries(workspace, people, field):
    assert _shown(workspace) == [
        ("Ravi Rep", "Beta <b>Labs</b>", None, "Uses a rival's CRM"),
        ("Ravi Rep", "Beta <b>Labs</b>", 2, "No budget until 2027"),  # its rating 1 corrected
        ("Rita Rep", "Acme GmbH", 4, "=Budget in Q1"),
    ]


def test_feedback_is_filtered_by_rep_industry_source_rating_and_rejection(workspace, people, field):
    assert [r[3] for r in _shown(workspace, FeedbackFilter(rep="Rita Rep"))] == ["=Budget in Q1"]
    assert len(_shown(workspace, FeedbackFilter(industry="Software"))) == 2
    assert len(_shown(workspace, FeedbackFilter(source="Trade fair"))) == 1
    assert [r[2] for r in _shown(workspace, FeedbackFilter(rating=2))] == [2]
    assert _shown(workspace, FeedbackFilter(rating=1)) == []  # corrected away
    [rejected] = feedback_page(workspace, FeedbackFilter(rejected=True))
    assert (rejected.lead, rejected.reason) == (LeadVerdict.REJECTED, "No budget until 2027")
    assert _shown(workspace, FeedbackFilter(tier="A")) == []  # no ICP applied: no tier yet
    choices = feedback_choices(workspace)
    owner = people[Role.OWNER].name  # the database's login on PostgreSQL
    assert choices.reps == sorted([owner, "Ravi Rep", "Rita Rep"], key=str.casefold)
    assert (choices.industries, choices.sources) == (["Machinery", "Software"],
                                                     ["Trade fair", "Webinar"])  # fmt: skip


def test_feedback_is_filtered_by_the_accounts_tier_and_icp_version(workspace, people, field):
    acme, _, _ = field
    version = save_icp(SqlIcpStore(workspace), people[Role.OWNER], IdealCustomerProfile("Fit"))
    with workspace.write() as conn:
        conn.execute(update(scores).where(scores.c.account_id == acme.id).values(tier="A"))
        conn.execute(update(targets).where(targets.c.account_id == acme.id)
                     .values(icp_version_id=version.id))  # fmt: skip
    assert [r[1] for r in _shown(workspace, FeedbackFilter(tier="A"))] == ["Acme GmbH"]
    by_version = FeedbackFilter(icp_version_id=version.id)
    assert [r[1] for r in _shown(workspace, by_version)] == ["Acme GmbH"]
    assert feedback_choices(workspace).versions == [(version.id, "Fit v1")]


def test_feedback_pages_follow_each_other(workspace, people, field):
    first = feedback_page(workspace, FeedbackFilter(), limit=2)
    rest = feedback_page(workspace, FeedbackFilter(), after=first[-1].after, limit=2)
    assert [line.learned or line.reason for line in first + rest] == [
        "Uses a rival's CRM", "No budget until 2027", "=Budget in Q1"]  # fmt: skip


def test_a_rep_reads_their_own_feedback_only(workspace, people, field):
    rita, marketing = people[Role.REP], people[Role.MARKETING]

    def read(rep):  # type: ignore[no-untyped-def]
        return _shown(workspace, FeedbackFilter(rep=rep))

    assert [r[0] for r in read_feedback(rita, read)] == ["Rita Rep"]
    with pytest.raises(PermissionDenied, match="Rita Rep \\(rep\\) may not read every rep's"):
        read_feedback(rita, read, "Ravi Rep")
    assert len(read_feedback(marketing, read)) == 3
    assert len(read_feedback(marketing, read, "Ravi Rep")) == 2


# --- the view -------------------------------------------------------------------------------


def _view(qtbot, workspace, user):  # type: ignore[no-untyped-def]
    view = FieldFeedback(workspace, user)
    qtbot.addWidget(view)
    return view


def _cells(view, column):  # type: ignore[no-untyped-def]
    model = view.table.model()
    return [model.index(row, column).data() for row in range(model.rowCount())]


def test_marketing_reads_every_reps_feedback_as_typed_and_filters_it(
    qtbot, qtmodeltester, workspace, people, field
):
    view = _view(qtbot, workspace, people[Role.MARKETING])
    qtmodeltester.check(view.model)
    assert _cells(view, FeedbackColumn.ACCOUNT) == [
        "Beta <b>Labs</b>",
        "Beta <b>Labs</b>",
        "Acme GmbH",
    ]
    assert _cells(view, FeedbackColumn.LEARNED)[2] == "=Budget in Q1"
    assert _cells(view, FeedbackColumn.RATING) == ["", "2 of 5", "4 of 5"]
    assert view.shown.text() == "3 lines"
    view.rejected_only.setChecked(True)
    assert _cells(view, FeedbackColumn.REASON) == ["No budget until 2027"]
    assert _cells(view, FeedbackColumn.LEAD) == ["Rejected"]
    view.rejected_only.setChecked(False)
    view.rep.setCurrentIndex(view.rep.findText("Rita Rep"))
    assert _cells(view, FeedbackColumn.REP) == ["Rita Rep"]
    view.industry.setCurrentIndex(view.industry.findText("Software"))
    assert view.shown.text() == "No feedback matches these filters."


def test_a_rep_sees_their_own_feedback_only(qtbot, workspace, people, field):
    view = _view(qtbot, workspace, people[Role.REP])
    assert not view.rep.isEnabled() and view.rep.currentText() == "Rita Rep"
    assert _cells(view, FeedbackColumn.REP) == ["Rita Rep"]


def test_lines_load_as_the_list_scrolls(qtbot, workspace, people, field, monkeypatch):
    monkeypatch.setattr(field_feedback, "PAGE_SIZE", 2)
    view = _view(qtbot, workspace, people[Role.OWNER])
    assert view.model.rowCount() == 2
    assert view.shown.text() == "The newest 2 lines; more as you scroll."
    view.model.fetchMore(QModelIndex())
    assert view.model.rowCount() == 3 and view.shown.text() == "3 lines"


def test_enter_opens_the_account_of_the_line(qtbot, workspace, people, field, monkeypatch):
    opened = []
    monkeypatch.setattr(AccountDialog, "exec", lambda dialog: opened.append(dialog.account.name))
    view = _view(qtbot, workspace, people[Role.MARKETING])
    view.table.selectRow(2)
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    assert opened == ["Acme GmbH"]


def test_the_main_window_opens_field_feedback_with_a_shortcut(qtbot, workspace, people, field,
                                                             monkeypatch):  # fmt: skip
    from ui.main_window import MainWindow

    opened = []
    monkeypatch.setattr(FieldFeedback, "exec", lambda view: opened.append(view.windowTitle()))
    window = MainWindow(workspace, people[Role.MARKETING])
    qtbot.addWidget(window)
    [action] = [a for a in window.findChildren(QAction) if a.text() == "Field feedback…"]
    assert action.shortcut().toString() == "Ctrl+Shift+R"
    action.trigger()
    assert opened == ["Field feedback"]
