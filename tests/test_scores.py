"""Stored scores (their own narrow table): every live account keeps its place in the
accounts list sorted by score, whatever created, deleted or restored it, before and after
an ICP is applied. On SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import event

from domain.accounts import create_account, delete_account, restore_account
from domain.icp import Criterion, IdealCustomerProfile, Operator, apply_icp, save_icp
from domain.importing import ImportOptions, OnDuplicate
from domain.users import Role
from storage import icps
from storage.icps import SqlIcpStore
from storage.importing.importer import import_accounts
from storage.read_models.account_list import ListColumn, ListQuery, count, page
from storage.repositories import SqlUnitOfWork

ICP = IdealCustomerProfile(
    "Big software",
    (
        Criterion("industry", Operator.IN, ("Software",), weight=50),
        Criterion("employees", Operator.AT_LEAST, (100,), weight=50),
    ),
    tier_a=100,
    tier_b=50,
)
BY_SCORE = ListQuery(sort=ListColumn.SCORE, descending=True)


def _listed_by_score(workspace) -> list[tuple[str, int | None, str | None]]:
    total = count(workspace, BY_SCORE)
    rows = page(workspace, BY_SCORE, 0, total + 10, total)
    assert len(rows) == total  # the sorted list holds every account the count promises
    return [(r[1 + ListColumn.NAME], r[1 + ListColumn.SCORE], r[1 + ListColumn.TIER]) for r in rows]


def test_every_live_account_has_a_place_in_the_list_sorted_by_score(workspace, people, tmp_path):
    owner = people[Role.OWNER]
    source = tmp_path / "accounts.csv"
    source.write_text(
        "Company name,Industry,Employees\nAlpha,Software,500\nBeta,Retail,500\nGamma,Software,5\n"
    )
    import_accounts(workspace, owner, source)
    delta = create_account(SqlUnitOfWork(workspace), owner, {"name": "Delta", "industry": "Food"})
    assert sorted(_listed_by_score(workspace)) == [
        ("Alpha", None, None), ("Beta", None, None), ("Delta", None, None), ("Gamma", None, None)
    ]  # fmt: skip

    store = SqlIcpStore(workspace)
    assert apply_icp(store, owner, save_icp(store, owner, ICP)) == 4
    listed = _listed_by_score(workspace)
    assert listed[0] == ("Alpha", 100, "A") and listed[-1] == ("Delta", 0, "C")
    assert [score for _, score, _ in listed] == [100, 50, 50, 0]

    delete_account(SqlUnitOfWork(workspace), owner, delta)
    apply_icp(store, owner, save_icp(store, owner, ICP, note="again"))  # rescoring the living
    assert [name for name, _, _ in _listed_by_score(workspace)][-1] != "Delta"
    restore_account(SqlUnitOfWork(workspace), owner, delta.id)
    assert _listed_by_score(workspace)[-1] == ("Delta", 0, "C")

    create_account(SqlUnitOfWork(workspace), owner, {"name": "Eta", "industry": "Software"})
    assert ("Eta", 50, "B") in _listed_by_score(workspace)


def test_applying_a_chunk_at_a_time_scores_every_live_account_once(workspace, people, monkeypatch):
    owner = people[Role.OWNER]
    made = [
        create_account(SqlUnitOfWork(workspace), owner, {"name": f"Co {n}", "employees": str(n)})
        for n in (50, 150, 250, 350, 450)
    ]
    delete_account(SqlUnitOfWork(workspace), owner, made[0])
    monkeypatch.setattr(icps, "APPLY_CHUNK", 2)
    store = SqlIcpStore(workspace)
    steps: list[tuple[int, int | None]] = []
    version = save_icp(store, owner, ICP)
    assert apply_icp(store, owner, version, lambda done, total: steps.append((done, total))) == 4
    assert [score for _, score, _ in _listed_by_score(workspace)] == [50, 50, 50, 50]
    *during, (last, _) = steps
    assert len(during) >= 2 and during == sorted(during) and last == 4  # the bar moves on


def test_an_import_scores_the_accounts_it_creates_without_looking_for_scores_they_lack(
    workspace, people, tmp_path
):
    """The accounts an import creates have no score rows to replace: they are written
    without a lookup of each (a million took 0.7 s), those it updates are scored again."""
    owner = people[Role.OWNER]
    store = SqlIcpStore(workspace)
    apply_icp(store, owner, save_icp(store, owner, ICP))
    first = tmp_path / "first.csv"
    first.write_text("Company name,Industry,Employees\nAlpha,Retail,500\n")
    import_accounts(workspace, owner, first)
    said: list[str] = []

    def heard(_conn, _cursor, statement, *_args) -> None:
        said.append(statement)

    second = tmp_path / "second.csv"
    second.write_text("Company name,Industry,Employees\nAlpha,Software,500\nBeta,Software,5\n")
    event.listen(workspace.engine, "before_cursor_execute", heard)
    try:
        import_accounts(workspace, owner, second, ImportOptions(on_duplicate=OnDuplicate.OVERWRITE))
    finally:
        event.remove(workspace.engine, "before_cursor_execute", heard)
    assert sorted(_listed_by_score(workspace)) == [("Alpha", 100, "A"), ("Beta", 50, "B")]
    deletes = [s for s in said if s.startswith("DELETE FROM account_scores")]
    # those of the accounts of the batch's contacts (both ways) and of the updated accounts
    assert len(deletes) == 3
    assert not [s for s in deletes if "accounts.import_batch_id" in s]
