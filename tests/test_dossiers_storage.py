"""Dossiers in the workspace, on SQLite and PostgreSQL: template versions, saving with the
version check, concurrent edits kept, ratings, the dossier list and its search, the
"dossier complete" lead rule in SQL, and unsaved text recovered after a crash."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from domain.accounts import add_contact, create_account
from domain.dossiers import (
    DEFAULT_TEMPLATE,
    DossierEdit,
    DossierStatus,
    DossierTemplate,
    Section,
    Source,
    rate_dossier,
    save_dossier,
    save_template,
    set_status,
    start_dossier,
)
from domain.errors import AccordError
from domain.leads import DOSSIER_COMPLETE, DossierComplete, LeadDefinition
from domain.users import Role
from storage.dossiers import (
    DossierFilter,
    SqlDossierStore,
    count_dossiers,
    current_template,
    dossier_for,
    dossier_lines,
    kept_conflicts,
    ratings_of,
    template_versions,
)
from storage.icps import account_facts
from storage.leads import sales_ready_sql
from storage.repositories import SqlUnitOfWork
from storage.targets import accounts
from storage.unsaved import UnsavedDossiers

REQUIRED = [s.key for s in DEFAULT_TEMPLATE.required()]


def _filled(extra: str = "") -> dict[str, str]:
    return {key: f"Research on {key}. {extra}" for key in REQUIRED}


@pytest.fixture
def desk(workspace, people):
    owner = people[Role.OWNER]
    uow = SqlUnitOfWork(workspace)
    nord = create_account(uow, owner, {"name": "Nordlicht GmbH", "country": "Germany"})
    add_contact(SqlUnitOfWork(workspace), owner, nord.id, {"name": "Jürgen Groß"})
    acme = create_account(SqlUnitOfWork(workspace), owner, {"name": "Acme Ltd"})
    return workspace, people, SqlDossierStore(workspace), nord.id, acme.id


def test_a_new_dossier_follows_the_current_template_and_saving_one_makes_a_version(desk):
    workspace, people, store, nord, _ = desk
    assert current_template(workspace) == DEFAULT_TEMPLATE
    first = start_dossier(store, people[Role.MARKETING], nord)
    assert [v.number for v in template_versions(workspace)] == [1]  # the default, stored
    short = DossierTemplate((Section("overview", "Overview"), Section("pains", "Pains")))
    version = save_template(store, people[Role.OWNER], short, "shorter")
    assert version.number == 2 and current_template(workspace) == short
    assert store.template_of(first) == DEFAULT_TEMPLATE  # a started dossier keeps its own
    with pytest.raises(AccordError, match="already has a dossier"):
        start_dossier(store, people[Role.MARKETING], nord)


def test_saving_stores_texts_completeness_and_who_changed_it(desk):
    workspace, people, store, nord, _ = desk
    marketer = people[Role.MARKETING]
    dossier = start_dossier(store, marketer, nord)
    assert dossier.completeness == 0 and dossier.author == "Mark Marketer"
    half = {REQUIRED[0]: "Brewery equipment <b>&</b> service"}
    saved = save_dossier(store, marketer, dossier, DossierEdit(half)).dossier
    assert saved.completeness == 100 // len(REQUIRED)
    links = (Source("https://nordlicht.example/news", "Press"),)
    full = save_dossier(store, marketer, saved, DossierEdit(_filled(), links)).dossier
    again = dossier_for(workspace, nord)
    assert again is not None and again.completeness == 100 and again.version == full.version
    assert again.sources == links and again.changed_by == "Mark Marketer"
    ready = set_status(store, marketer, again, DossierStatus.READY)
    reviewed = set_status(store, people[Role.OWNER], ready, DossierStatus.REVIEWED)
    assert dossier_for(workspace, nord).status is DossierStatus.REVIEWED == reviewed.status


def test_two_people_saving_the_same_dossier_keep_both_texts(desk):
    workspace, people, store, nord, _ = desk
    marketer, owner = people[Role.MARKETING], people[Role.OWNER]
    loaded = save_dossier(store, marketer, start_dossier(store, marketer, nord),
                          DossierEdit({"overview": "Pumps."})).dossier  # fmt: skip
    # Both open the same version; the owner saves first.
    save_dossier(store, owner, loaded, DossierEdit({"overview": "Pumps, valves.", "needs": "x"}))
    result = save_dossier(store, marketer, loaded, DossierEdit({"overview": "Pumps for beer."}))
    stored = dossier_for(workspace, nord)
    assert stored.texts == {"overview": "Pumps, valves.", "needs": "x"}
    assert [c.section for c in result.conflicts] == ["overview"]
    kept = kept_conflicts(workspace, stored.id)
    assert [(k.section, k.text, k.author) for k in kept] == [
        ("overview", "Pumps for beer.", "Mark Marketer")
    ]
    store.settle_conflict(stored, "overview", marketer)
    assert kept_conflicts(workspace, stored.id) == []


def test_ratings_are_one_per_rep_and_show_in_the_list(desk):
    workspace, people, store, nord, acme = desk
    marketer, rep = people[Role.MARKETING], people[Role.REP]
    dossier = save_dossier(store, marketer, start_dossier(store, marketer, nord),
                           DossierEdit(_filled("Ψ 北京"))).dossier  # fmt: skip
    start_dossier(store, marketer, acme)
    rate_dossier(store, rep, dossier, 2, "thin")
    rate_dossier(store, rep, dossier, 5, "got the meeting")
    assert [(r.rater, r.stars, r.comment) for r in ratings_of(workspace, dossier.id)] == [
        ("Rita Rep", 5, "got the meeting")
    ]
    everything = dossier_lines(workspace, DossierFilter())
    assert [line.account for line in everything] == ["Acme Ltd", "Nordlicht GmbH"]
    assert everything[1].rating == 5 and everything[1].ratings == 1
    rated = dossier_lines(workspace, DossierFilter(min_rating=4))
    assert [line.account for line in rated] == ["Nordlicht GmbH"]
    complete = DossierFilter(min_completeness=100)
    assert count_dossiers(workspace, complete) == 1
    drafts = DossierFilter(status=DossierStatus.DRAFT)
    assert count_dossiers(workspace, drafts) == 2


def test_search_finds_words_anywhere_in_dossier_text(desk):
    workspace, people, store, nord, acme = desk
    marketer = people[Role.MARKETING]
    nord_dossier = start_dossier(store, marketer, nord)
    news = DossierEdit({"news": "Opened a Brauerei in Köln", "overview": "Pumps"})
    save_dossier(store, marketer, nord_dossier, news)
    save_dossier(store, marketer, start_dossier(store, marketer, acme),
                 DossierEdit({"overview": "Pumps and valves"}))  # fmt: skip
    found = dossier_lines(workspace, DossierFilter(search="koln brauerei"))
    assert [line.account for line in found] == ["Nordlicht GmbH"]
    assert count_dossiers(workspace, DossierFilter(search="PUMPS")) == 2
    assert count_dossiers(workspace, DossierFilter(search="100%")) == 0


def test_dossier_complete_agrees_in_sql_and_python(desk):
    workspace, people, store, nord, acme = desk
    marketer = people[Role.MARKETING]
    save_dossier(store, marketer, start_dossier(store, marketer, nord), DossierEdit(_filled()))
    save_dossier(store, marketer, start_dossier(store, marketer, acme),
                 DossierEdit({"overview": "Only this"}))  # fmt: skip
    definition = LeadDefinition((DossierComplete(),))
    with workspace.read() as conn:
        ready = {r.name for r in conn.execute(select(accounts.c.name).where(
            accounts.c.deleted_at.is_(None), sales_ready_sql(definition)))}  # fmt: skip
        facts = {i: account_facts(conn, i) for i in (nord, acme)}
    assert ready == {"Nordlicht GmbH"}
    assert facts[nord][DOSSIER_COMPLETE] and not facts[acme][DOSSIER_COMPLETE]
    assert definition.sales_ready(facts[nord]) and not definition.sales_ready(facts[acme])


def test_text_typed_before_a_crash_is_found_again_and_saved(desk, tmp_path):
    workspace, people, store, nord, _ = desk
    marketer, owner = people[Role.MARKETING], people[Role.OWNER]
    dossier = start_dossier(store, marketer, nord)
    unsaved = UnsavedDossiers(workspace, tmp_path)
    typed = DossierEdit({"overview": "Typed on the train — not saved yet"})
    unsaved.keep(dossier, typed)
    # the app dies here; meanwhile someone else saves another section
    save_dossier(store, owner, dossier, DossierEdit({"needs": "Cash is tight."}))
    again = UnsavedDossiers(workspace, tmp_path)
    assert again.waiting() == [dossier.id]
    found = again.find(dossier_for(workspace, nord))
    assert found is not None and found.edit == typed and found.dossier.version == dossier.version
    save_dossier(store, marketer, found.dossier, found.edit)
    again.forget(dossier.id)
    assert dossier_for(workspace, nord).texts == {
        "overview": "Typed on the train — not saved yet",
        "needs": "Cash is tight.",
    }
    assert again.waiting() == []
