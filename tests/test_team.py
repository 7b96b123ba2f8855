"""Who is working, and what the database itself lets them do: each person's own login on a
team's PostgreSQL database, its grants and row-level security; and the first sign-in, which
makes exactly one owner however many people sign in at once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from conftest import PG_URL, _pg_database
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from domain.accounts import Contact, create_account
from domain.dossiers import (
    DEFAULT_TEMPLATE,
    DossierEdit,
    DossierStatus,
    rate_dossier,
    save_dossier,
    save_template,
    set_status,
    start_dossier,
)
from domain.errors import PermissionDenied
from domain.icp import IdealCustomerProfile, Tier, apply_icp, save_icp
from domain.importing import import_file, undo_import
from domain.interactions import (
    Channel,
    Interaction,
    Outcome,
    correct_stage,
    grant_exception,
    log_interaction,
)
from domain.leads import DEFAULT_LEAD_DEFINITION, save_lead_definition
from domain.targets import Stage, assign_round_robin, build_target_list, hand_off, set_priority
from domain.users import Action, Role, User, add_user, export, set_up_team
from main import main
from storage.dossiers import SqlDossierStore
from storage.icps import SqlIcpStore
from storage.importing.importer import SqlImporter
from storage.leads import SqlLeadStore
from storage.read_models.dossier_print import printed_dossiers
from storage.read_models.export import account_table
from storage.repositories import SqlUnitOfWork
from storage.schema import Base
from storage.targets import target_table
from storage.team import REFUSED, SYNC_TABLES, WRITES
from storage.users import SqlUserStore, list_users, sign_in
from storage.workspace import Workspace, WorkspaceError, open_workspace
from ui.users_dialog import UsersDialog


@dataclass
class Team:
    url: str  # the database, as its owner (a superuser here)
    workspace: Workspace
    owner: User
    logins: list[str]

    def add(self, role: Role) -> User:
        """A person with their own login (unique on the shared test server)."""
        name = f"{role.value}_{uuid.uuid4().hex[:8]}"
        self.logins.append(name)
        return add_user(SqlUserStore(self.workspace), self.owner, name, role, login=True)

    def url_of(self, login: str) -> str:
        return make_url(self.url).set(username=login).render_as_string(hide_password=False)

    def open_as(self, login: str) -> Workspace:
        return open_workspace(self.url_of(login))


@pytest.fixture(params=["superuser", "database owner"])
def team(request: pytest.FixtureRequest) -> Iterator[Team]:
    """A team database set up by a superuser, or by the owner the README has make it."""
    database = _pg_database()
    url = next(database)
    logins = []
    if request.param == "database owner":
        logins.append(f"owner_{uuid.uuid4().hex[:8]}")
        setup = create_engine(url)
        with setup.begin() as conn:
            conn.exec_driver_sql(f'CREATE ROLE "{logins[0]}" LOGIN CREATEROLE')
            name = make_url(url).database
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" OWNER TO "{logins[0]}"')
        setup.dispose()
        url = make_url(url).set(username=logins[0]).render_as_string(hide_password=False)
    workspace = open_workspace(url)
    owner = sign_in(workspace, "")
    set_up_team(SqlUserStore(workspace), owner)
    made = Team(url, workspace, owner, logins)
    try:
        yield made
    finally:
        workspace.close()
        database.close()  # drops the database, and with it every grant to the logins
        admin = create_engine(str(PG_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for login in reversed(made.logins):
                conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{login}"')
        admin.dispose()


def _refused(conn, statement: str) -> None:
    with pytest.raises(ProgrammingError) as caught, conn.begin():
        conn.exec_driver_sql(statement)
    assert caught.value.orig.sqlstate == REFUSED


def test_every_table_is_written_by_the_actions_that_write_it():
    """A new table gets grants only once an action says it writes it."""
    assert set(WRITES) == set(Action)
    assert set().union(*WRITES.values(), SYNC_TABLES) == set(Base.metadata.tables)


@pytest.mark.postgres
def test_a_reps_login_cannot_change_the_plan_even_with_a_sql_client(team):
    rep = team.add(Role.REP)
    engine = create_engine(team.url_of(rep.name))
    with engine.connect() as conn:
        for statement in (
            "UPDATE icp_versions SET note = 'mine'",
            "INSERT INTO icp_versions (id, name, number, document, note, created_at, created_by)"
            " VALUES (gen_random_uuid(), 'x', 9, '{}', '', now(), 'x')",
            "UPDATE lead_definitions SET created_by = 'me'",
            "UPDATE dossier_templates SET note = 'mine'",
            "UPDATE targets SET priority = 1",
            "UPDATE users SET role = 'owner'",
            f"INSERT INTO users (id, name, role, created_at, updated_at, changed_by, version)"
            f" VALUES (gen_random_uuid(), 'Boss', 'owner', now(), now(), '{rep.name}', 1)",
            "UPDATE accounts SET name = 'x'",
        ):
            _refused(conn, statement)
        assert conn.execute(text("SELECT count(*) FROM users")).scalar_one() == 2  # reads work
    engine.dispose()


@pytest.mark.postgres
def test_the_login_decides_who_is_working_whatever_name_is_typed(team, capsys):
    rep = team.add(Role.REP)
    workspace = team.open_as(rep.name)
    try:
        assert sign_in(workspace, team.owner.name) == rep
    finally:
        workspace.close()
    code = main(["--db", team.url_of(rep.name), "--user", team.owner.name,
                 "users", "--add", "Mallory", "--role", "owner"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert f"--user is ignored in a team database: you are its login '{rep.name}'" in err
    assert "may not manage users" in err
    assert "Mallory" not in {u.name for u in list_users(team.workspace)}


@pytest.mark.postgres
def test_a_rep_rates_dossiers_as_themselves_only(team):
    rep, other = team.add(Role.REP), team.add(Role.REP)
    account = create_account(SqlUnitOfWork(team.workspace), team.owner, {"name": "Acme"})
    dossier = start_dossier(SqlDossierStore(team.workspace), team.owner, account.id)
    workspace = team.open_as(rep.name)
    try:
        rate_dossier(SqlDossierStore(workspace), sign_in(workspace, ""), dossier, 4)
        # As someone else, through the app's own store: the server refuses the row.
        with pytest.raises(ProgrammingError) as caught:
            rate_dossier(SqlDossierStore(workspace), other, dossier, 1)
        assert caught.value.orig.sqlstate == REFUSED
        with workspace.read() as conn:
            ratings = conn.exec_driver_sql("SELECT rater, stars FROM dossier_ratings").all()
            assert ratings == [(rep.name, 4)]
    finally:
        workspace.close()


@pytest.mark.postgres
def test_each_login_may_do_on_the_server_all_its_role_may(team, tmp_path):
    """The grants are wide enough: a marketer's and a rep's logins run every use case their
    role allows, through the app, without the server refusing any of it."""
    marketer, rep = team.add(Role.MARKETING), team.add(Role.REP)
    source = tmp_path / "list.csv"
    source.write_text("Company name,Website,Employees\nAcme,acme.de,50\nBolt,bolt.io,70\n")
    theirs = create_account(SqlUnitOfWork(team.workspace), team.owner, {"name": "Dora"})
    reviewed = start_dossier(SqlDossierStore(team.workspace), team.owner, theirs.id)
    workspace = team.open_as(marketer.name)
    try:
        me, importer = sign_in(workspace, ""), SqlImporter(workspace)
        batch = import_file(importer, me, source, "accounts").batch_id
        undo_import(importer, me, batch)
        import_file(importer, me, source, "accounts")
        account = create_account(SqlUnitOfWork(workspace), me, {"name": "Cora", "phone": "1"})
        version = save_icp(SqlIcpStore(workspace), me, IdealCustomerProfile("Anyone"))
        apply_icp(SqlIcpStore(workspace), me, version)
        save_lead_definition(SqlLeadStore(workspace), me, DEFAULT_LEAD_DEFINITION)
        build_target_list(SqlUnitOfWork(workspace), me, version, set(Tier))
        assign_round_robin(SqlUnitOfWork(workspace), me, [rep.name])
        set_priority(SqlUnitOfWork(workspace), me, [account.id], 1)
        hand_off(SqlUnitOfWork(workspace), me)
        dossiers = SqlDossierStore(workspace)
        save_template(dossiers, me, DEFAULT_TEMPLATE, "agreed")
        mine = start_dossier(dossiers, me, account.id)
        save_dossier(dossiers, me, mine, DossierEdit({"overview": "Makes pumps."}))
        full = {s.key: "Done." for s in dossiers.template_of(reviewed).sections}
        ready = save_dossier(SqlDossierStore(team.workspace), team.owner, reviewed,
                             DossierEdit(full)).dossier  # fmt: skip
        ready = set_status(SqlDossierStore(team.workspace), team.owner, ready,
                           DossierStatus.READY)  # fmt: skip
        assert (
            set_status(dossiers, me, ready, DossierStatus.REVIEWED).status is DossierStatus.REVIEWED
        )
        grant_exception(SqlUnitOfWork(workspace), me, rep.name, theirs.id, "met at a fair")
        correct_stage(SqlUnitOfWork(workspace), me, account.id, Stage.CONTACTED, "called before")
    finally:
        workspace.close()
    workspace = team.open_as(rep.name)
    try:
        me = sign_in(workspace, "")
        rate_dossier(SqlDossierStore(workspace), me, mine, 5)
        for listed, met in ((account.id, Contact(account.id, "Ann")), (theirs.id, None)):
            call = Interaction(listed, Channel.VISIT, Outcome.MEETING_BOOKED, datetime.now(UTC))
            log_interaction(SqlUnitOfWork(workspace), me, call, new_contact=met)
        assert export(me, lambda: account_table(workspace)).count == 4
        assert export(me, lambda: target_table(workspace)).count > 0
        assert len(list(export(me, lambda: printed_dossiers(workspace, [account.id])))) == 1
    finally:
        workspace.close()


@pytest.mark.postgres
def test_a_marketers_login_cannot_manage_users_or_write_as_someone_else(team):
    marketer = team.add(Role.MARKETING)
    workspace = team.open_as(marketer.name)
    try:
        me = sign_in(workspace, "")
        assert me.role is Role.MARKETING
        create_account(SqlUnitOfWork(workspace), me, {"name": "Acme"})
        with pytest.raises(PermissionDenied):
            add_user(SqlUserStore(workspace), me, "Bob", Role.OWNER)
        with workspace.read() as conn:
            _refused(conn, "UPDATE users SET role = 'owner'")
            forged = f"VALUES (now(), '{team.owner.name}', 'accounts', 'forged')"
            _refused(conn, f"INSERT INTO change_log (at, user_name, table_name, action) {forged}")
            who = conn.exec_driver_sql("SELECT DISTINCT user_name FROM change_log").scalars()
            assert set(who) == {team.owner.name, marketer.name}
    finally:
        workspace.close()


@pytest.mark.postgres
def test_a_login_that_is_no_user_is_told_so(team):
    stranger = f"stranger_{uuid.uuid4().hex[:8]}"
    team.logins.append(stranger)
    with team.workspace.write() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{stranger}" LOGIN')
    with pytest.raises(WorkspaceError, match="Ask the workspace's owner to add you"):
        team.open_as(stranger)


@pytest.mark.postgres
def test_a_changed_role_changes_what_the_server_allows(team):
    person = team.add(Role.REP)
    add_user(SqlUserStore(team.workspace), team.owner, person.name, Role.MARKETING)
    engine = create_engine(team.url_of(person.name))
    with engine.connect() as conn:
        with conn.begin():
            conn.exec_driver_sql("UPDATE targets SET priority = 1")  # marketing's to change now
        _refused(conn, "UPDATE users SET role = 'owner'")
    engine.dispose()


def test_a_workspace_file_has_no_logins(tmp_path, capsys):
    db = str(tmp_path / "w.sqlite")
    assert main(["--db", db, "--user", "Ann", "users"]) == 0
    assert main(["--db", db, "--user", "Ann", "team", "setup"]) == 1
    assert "A workspace file has no logins" in capsys.readouterr().err
    assert main(["--db", db, "--user", "Ann", "users", "--add", "Bob", "--login"]) == 1


def _at_once(count: int, work) -> list[BaseException]:
    """Run ``work(i)`` in ``count`` threads released together; the errors they raised."""
    start, errors = threading.Barrier(count), []

    def run(i: int) -> None:
        start.wait()
        try:
            work(i)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_people_signing_in_to_a_new_workspace_at_once_make_one_owner(db_url):
    open_workspace(db_url).close()  # made and migrated; the race is the sign-in

    def sign_in_as(i: int) -> None:
        workspace = open_workspace(db_url)
        try:
            sign_in(workspace, f"Person {i % 4}")  # also the same new name twice at once
        finally:
            workspace.close()

    assert _at_once(8, sign_in_as) == []
    workspace = open_workspace(db_url)
    users = list_users(workspace)
    workspace.close()
    assert [u.role for u in users].count(Role.OWNER) == 1
    # A file takes the names as given; a team database knows one person here, its login.
    assert len(users) == (4 if workspace.is_sqlite else 1)


@pytest.mark.postgres
def test_the_window_opens_as_the_login_without_asking_a_name(team, qtbot, monkeypatch):
    from PySide6.QtWidgets import QApplication

    from ui import app

    rep = team.add(Role.REP)
    monkeypatch.setattr(app, "_ask_name", lambda _parent: pytest.fail("asked for a name"))
    monkeypatch.setattr(QApplication, "exec", lambda _self: 0)
    assert app.run_gui(db=team.url_of(rep.name), user_name=None, demo=False) == 0
    window = app._keep.pop()
    qtbot.addWidget(window)
    assert f"{rep.name} (rep)" in window.windowTitle()
    window.workspace.close()


@pytest.mark.postgres
def test_what_the_server_refuses_an_owner_is_said_in_a_sentence(team):
    """A second owner whose login may not create roles adds people, not logins."""
    second = team.add(Role.OWNER)
    workspace = team.open_as(second.name)
    try:
        me = sign_in(workspace, "")
        assert add_user(SqlUserStore(workspace), me, "Ron", Role.REP).role is Role.REP
        with pytest.raises(PermissionDenied, match=r"refused this to your login \(.*\): its owner"):
            add_user(SqlUserStore(workspace), me, "Ron", Role.REP, login=True)
    finally:
        workspace.close()


def test_the_users_dialog_offers_a_login_only_for_a_team_database(
    qtbot, sqlite_workspace, sqlite_people
):
    owner = sqlite_people[Role.OWNER]
    dialog = UsersDialog(sqlite_workspace, owner)
    qtbot.addWidget(dialog)
    assert dialog.login.isHidden()


@pytest.mark.postgres
def test_the_users_dialog_makes_a_login_in_the_persons_group(team, qtbot):
    dialog = UsersDialog(team.workspace, team.owner)
    qtbot.addWidget(dialog)
    assert not dialog.login.isHidden()
    name = f"rep_{uuid.uuid4().hex[:8]}"
    team.logins.append(name)
    dialog.name.setText(name)
    dialog.role.setCurrentIndex(dialog.role.findData(Role.REP))
    dialog.login.setChecked(True)
    dialog.add()
    assert dialog.table.rowCount() == 2
    with team.workspace.read() as conn:
        member = conn.execute(text("SELECT pg_has_role(:name, 'accord_rep', 'MEMBER')"),
                              {"name": name}).scalar_one()  # fmt: skip
    assert member
