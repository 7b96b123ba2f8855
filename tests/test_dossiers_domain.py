"""Dossier rules without a database: completeness, status, permissions, the merge of two
concurrent edits, and ratings."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from domain.dossiers import (
    DEFAULT_TEMPLATE,
    Conflict,
    Dossier,
    DossierEdit,
    DossierStatus,
    DossierTemplate,
    Section,
    Source,
    completeness,
    merge,
    rate_dossier,
    save_dossier,
    save_template,
    section_key,
    set_status,
    start_dossier,
)
from domain.errors import ConcurrentEditError, PermissionDenied, ValidationError
from domain.leads import DOSSIER_COMPLETE, DossierComplete, LeadDefinition, make_rule
from domain.users import Role, User

OWNER = User(uuid.uuid4(), "Olivia Owner", Role.OWNER)
MARKETER = User(uuid.uuid4(), "Mark Marketer", Role.MARKETING)
REP = User(uuid.uuid4(), "Rita Rep", Role.REP)
TEMPLATE = DossierTemplate(
    (
        Section("overview", "Overview"),
        Section("pains", "Needs and pains"),
        Section("news", "Recent news", required=False),
    )
)
FULL = {"overview": "Makes pumps.", "pains": "Late deliveries."}


class FakeStore:
    """Holds one dossier like the database would, version check included."""

    def __init__(self) -> None:
        self.stored: Dossier | None = None
        self.kept: list[Conflict] = []
        self.ratings: list[tuple[str, int, str]] = []
        self.templates: list[DossierTemplate] = []

    def save_template(self, template, note, user):
        self.templates.append(template)
        return len(self.templates)

    def template_of(self, dossier):
        return TEMPLATE

    def create(self, account_id, user):
        self.stored = Dossier(uuid.uuid4(), account_id, uuid.uuid4(), {}, author=user.name)
        return self.stored

    def load(self, dossier_id):
        assert self.stored is not None
        return self.stored

    def save(self, dossier, edit, status, user):
        assert self.stored is not None
        if dossier.version != self.stored.version:
            raise ConcurrentEditError("This dossier")
        self.stored = replace(
            self.stored,
            texts=dict(edit.texts),
            sources=edit.sources,
            contact_ids=edit.contact_ids,
            status=status,
            completeness=completeness(TEMPLATE, edit.texts),
            version=self.stored.version + 1,
        )
        return self.stored

    def keep_conflicts(self, dossier, conflicts, user):
        self.kept.extend(conflicts)

    def settle_conflict(self, dossier, section, user):
        self.kept = [c for c in self.kept if c.section != section]

    def set_status(self, dossier, status, user):
        assert self.stored is not None
        self.stored = replace(self.stored, status=status, version=self.stored.version + 1)
        return self.stored

    def rate(self, rating):
        self.ratings.append((rating.rater, rating.stars, rating.comment))


def _ready(store: FakeStore) -> Dossier:
    dossier = start_dossier(store, MARKETER, uuid.uuid4())
    dossier = save_dossier(store, MARKETER, dossier, DossierEdit(FULL)).dossier
    return set_status(store, MARKETER, dossier, DossierStatus.READY)


def test_completeness_counts_only_required_sections_that_hold_text():
    assert completeness(TEMPLATE, {}) == 0
    assert completeness(TEMPLATE, {"overview": "Makes pumps.", "news": "New CEO"}) == 50
    assert completeness(TEMPLATE, {"overview": "x", "pains": "   \n"}) == 50
    assert completeness(TEMPLATE, FULL) == 100
    assert completeness(DossierTemplate((Section("a", "A", required=False),)), {}) == 100


def test_the_default_template_holds_what_the_teams_agreed_a_dossier_needs():
    titles = [s.title for s in DEFAULT_TEMPLATE.sections]
    assert titles[0] == "Company overview"
    assert "Approved messaging / value proposition" in titles
    assert "Decision makers and buying roles" in titles
    assert all(s.guidance for s in DEFAULT_TEMPLATE.sections)
    assert DossierTemplate.from_document(DEFAULT_TEMPLATE.to_document()) == DEFAULT_TEMPLATE


def test_a_template_needs_distinct_titled_sections():
    with pytest.raises(ValidationError, match="same title"):
        DossierTemplate((Section("a", "Pains"), Section("b", "pains"))).check()
    with pytest.raises(ValidationError, match="at least one"):
        DossierTemplate(()).check()
    assert section_key("Needs & pains", ["needs_pains"]) == "needs_pains_2"


def test_only_owner_and_marketing_change_the_template():
    store = FakeStore()
    save_template(store, MARKETER, TEMPLATE, "first")
    save_template(store, OWNER, TEMPLATE)
    with pytest.raises(PermissionDenied):
        save_template(store, REP, TEMPLATE)
    assert len(store.templates) == 2


def test_a_rep_cannot_start_or_edit_a_dossier():
    store = FakeStore()
    with pytest.raises(PermissionDenied):
        start_dossier(store, REP, uuid.uuid4())
    dossier = start_dossier(store, MARKETER, uuid.uuid4())
    with pytest.raises(PermissionDenied):
        save_dossier(store, REP, dossier, DossierEdit(FULL))


def test_a_draft_becomes_ready_only_when_every_required_section_is_filled():
    store = FakeStore()
    dossier = start_dossier(store, MARKETER, uuid.uuid4())
    half = save_dossier(store, MARKETER, dossier, DossierEdit({"overview": "x"})).dossier
    with pytest.raises(ValidationError, match="required section"):
        set_status(store, MARKETER, half, DossierStatus.READY)
    assert _ready(FakeStore()).status is DossierStatus.READY


def test_someone_other_than_the_author_reviews_and_a_rep_cannot():
    store = FakeStore()
    ready = _ready(store)
    with pytest.raises(ValidationError, match="other than the author"):
        set_status(store, MARKETER, ready, DossierStatus.REVIEWED)
    with pytest.raises(PermissionDenied):
        set_status(store, REP, ready, DossierStatus.REVIEWED)
    assert set_status(store, OWNER, ready, DossierStatus.REVIEWED).status is DossierStatus.REVIEWED


def test_editing_a_reviewed_dossier_asks_for_a_new_review_and_emptying_it_makes_a_draft():
    store = FakeStore()
    reviewed = set_status(store, OWNER, _ready(store), DossierStatus.REVIEWED)
    changed = {**FULL, "pains": "Late deliveries and rising costs."}
    again = save_dossier(store, MARKETER, reviewed, DossierEdit(changed)).dossier
    assert again.status is DossierStatus.READY
    emptied = save_dossier(store, MARKETER, again, DossierEdit({**changed, "pains": ""})).dossier
    assert emptied.status is DossierStatus.DRAFT


def test_sources_must_be_web_links():
    store = FakeStore()
    dossier = start_dossier(store, MARKETER, uuid.uuid4())
    ok = DossierEdit(FULL, (Source("https://example.com/news", "Press release"),))
    assert save_dossier(store, MARKETER, dossier, ok).dossier.sources[0].title == "Press release"
    with pytest.raises(ValidationError, match="not a web link"):
        save_dossier(store, MARKETER, store.stored, DossierEdit(FULL, (Source("call Bob"),)))


def test_merge_takes_each_sides_changes_and_keeps_both_texts_where_both_changed():
    base = {"overview": "Pumps.", "pains": "Delays.", "news": ""}
    mine = {"overview": "Pumps and valves.", "pains": "Delays; cash.", "news": ""}
    theirs = {"overview": "Pumps.", "pains": "Delays at the port.", "news": "New CEO"}
    merged, conflicts = merge(base, mine, theirs)
    assert merged == {"overview": "Pumps and valves.", "pains": "Delays at the port.",
                      "news": "New CEO"}  # fmt: skip
    assert conflicts == [Conflict("pains", "Delays; cash.", "Delays at the port.")]


def test_a_save_that_lost_the_race_is_merged_not_lost():
    store = FakeStore()
    dossier = start_dossier(store, MARKETER, uuid.uuid4())
    loaded = save_dossier(store, MARKETER, dossier, DossierEdit({"overview": "Pumps."})).dossier
    # someone else saves first, from the same loaded version
    save_dossier(store, OWNER, loaded, DossierEdit({"overview": "Pumps.", "pains": "Delays."}))
    mine = DossierEdit({"overview": "Pumps and valves.", "pains": "Cash is tight."})
    saved = save_dossier(store, MARKETER, loaded, mine)
    assert saved.dossier.texts == {"overview": "Pumps and valves.", "pains": "Delays."}
    assert [(c.section, c.mine) for c in saved.conflicts] == [("pains", "Cash is tight.")]
    assert store.kept == list(saved.conflicts)


def test_reps_rate_dossiers_from_one_to_five():
    store = FakeStore()
    dossier = _ready(store)
    rate_dossier(store, REP, dossier, 4, "  Good openers  ")
    assert store.ratings == [("Rita Rep", 4, "Good openers")]
    with pytest.raises(ValidationError):
        rate_dossier(store, REP, dossier, 6)
    with pytest.raises(PermissionDenied):
        rate_dossier(store, MARKETER, dossier, 5)


def test_dossier_complete_is_a_point_of_the_lead_definition():
    definition = LeadDefinition.from_document({"rules": [{"kind": "dossier complete"}]})
    assert definition.rules == (DossierComplete(),)
    assert definition.sales_ready({DOSSIER_COMPLETE: True})
    assert not definition.sales_ready({DOSSIER_COMPLETE: False})
    assert make_rule("dossier complete", {}).describe().startswith("Dossier complete")
