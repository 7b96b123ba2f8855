"""A team's PostgreSQL database holds each person to their role, whatever program they use.

Each person signs in with a database login of their own, named like their Accord user.
The login is a member of the group role of their Accord role (``accord_owner``,
``accord_marketing``, ``accord_rep``); the groups get grants table by table, derived from
the domain's permission table (:func:`domain.users.allowed_actions`) through
:data:`WRITES`. Where rows differ by person (a rep's dossier rating, who made a change),
row-level security lets a login write only its own rows. A SQLite file has none of this:
whoever can open the file works in it.
"""

from __future__ import annotations

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from domain.errors import AccordError
from domain.users import Action, Role, allowed_actions

#: The database's group role of each Accord role.
GROUPS = {role: f"accord_{role.value}" for role in Role}

#: The service agreement's facts, written by every action that changes what they come from
#: (storage.sla_facts): interactions, stage changes, the target list, an account's life and
#: its score (the tier).
SLA_FACTS = ("handoff_facts", "follow_up_facts", "follow_up_days")
#: The shared goal's and the call queue's facts (storage.goal_facts, storage.queue_facts)
#: and the closed loop's (storage.segments, storage.learning_facts), written by the same
#: actions: interactions, stage changes, the target list, and an account's life, fields and
#: score.
GOAL_FACTS = ("goal_facts", "queue_facts", "account_segments", "learning_facts")
#: The tables each action writes; every table is readable by every role.
WRITES: dict[Action, frozenset[str]] = {
    Action.EDIT_ACCOUNTS: frozenset(
        {"accounts", "contacts", "account_scores", "change_log", *SLA_FACTS, *GOAL_FACTS}
    ),
    # Reviewing a possible duplicate (merge, keep both) is part of importing.
    Action.IMPORT: frozenset(
        {
            "accounts",
            "contacts",
            "account_scores",
            "import_batches",
            "import_changes",
            "possible_duplicates",
            "engagements",
            "change_log",
            *SLA_FACTS,
            *GOAL_FACTS,
        }
    ),
    Action.UNDO_IMPORT: frozenset(
        {
            "accounts",
            "contacts",
            "account_scores",
            "import_batches",
            "engagements",
            "change_log",
            *SLA_FACTS,
            *GOAL_FACTS,
        }
    ),
    Action.EXPORT: frozenset(),
    Action.MANAGE_USERS: frozenset({"users", "change_log"}),
    Action.EDIT_ICP: frozenset(
        {"icp_versions", "account_scores", "change_log", *SLA_FACTS, *GOAL_FACTS}
    ),
    Action.EDIT_LEAD_DEFINITION: frozenset({"lead_definitions", "change_log"}),
    Action.EDIT_TARGET_LIST: frozenset(
        {"targets", "stage_changes", "account_reach", "change_log", *SLA_FACTS, *GOAL_FACTS}
    ),
    Action.EDIT_DOSSIER_TEMPLATE: frozenset({"dossier_templates", "change_log"}),
    # The first dossier of a workspace stores the default template as its version 1.
    Action.EDIT_DOSSIER: frozenset(
        {"dossiers", "dossier_conflicts", "dossier_templates", "change_log"}
    ),
    Action.REVIEW_DOSSIER: frozenset({"dossiers", "change_log"}),
    Action.RATE_DOSSIER: frozenset({"dossier_ratings"}),
    # A rep may add the contact they met while logging; the stage moves on the target list.
    Action.LOG_INTERACTION: frozenset(
        {
            "interactions",
            "stage_changes",
            "account_reach",
            "targets",
            "contacts",
            "account_scores",
            "change_log",
            *SLA_FACTS,
            *GOAL_FACTS,
        }
    ),
    Action.CORRECT_STAGE: frozenset(
        {"stage_changes", "account_reach", "targets", "change_log", *SLA_FACTS, *GOAL_FACTS}
    ),
    Action.GRANT_EXCEPTION: frozenset({"log_exceptions", "change_log"}),
    Action.SEE_ANY_QUEUE: frozenset(),
    Action.READ_FIELD_FEEDBACK: frozenset(),
    Action.SET_GOAL: frozenset({"goal_versions", "change_log"}),
    Action.EDIT_AGREEMENT: frozenset({"agreement_versions", "work_calendars", "change_log"}),
    Action.SIGN_PLAN: frozenset({"plan_sign_offs", "change_log"}),
}

#: The sync engine's own tables (storage/sync/): the capture triggers write the outbox
#: whoever edits, and whoever syncs writes the rest. What a sync writes into the user's
#: tables is held by the grants above and by the roles checked at sync (domain.sync).
SYNC_TABLES = frozenset(
    {
        "sync_device",
        "sync_outbox",
        "sync_changes",
        "sync_heads",
        "sync_seen",
        "sync_refused",
        "sync_applying",
    }
)

#: SQLSTATE of "insufficient privilege": the server holding a login to its role.
REFUSED = "42501"


def refused(error: DBAPIError) -> bool:
    """Whether the server refused ``error``'s statement to the login."""
    return getattr(error.orig, "sqlstate", None) == REFUSED


#: Tables whose rows belong to a person: the column naming them, which is their login.
OWN_ROWS = {
    "dossier_ratings": "rater",
    "change_log": "user_name",
    "interactions": "logged_by",
    "stage_changes": "changed_by",
    "plan_sign_offs": "signed_by",
}


class TeamNotSetUp(AccordError):
    def __init__(self) -> None:
        super().__init__(
            "This team database has no Accord roles yet: its owner runs 'accord team setup' once."
        )


#: Where an action changes only some columns of a table: a logged call moves the stage of
#: the account on the target list, and nothing else of it.
_STAGE_COLUMNS = ("stage", "updated_at", "changed_by", "version")
COLUMNS: dict[tuple[Action, str], tuple[str, ...]] = {
    (Action.LOG_INTERACTION, "targets"): _STAGE_COLUMNS,
    (Action.CORRECT_STAGE, "targets"): _STAGE_COLUMNS,
}


def written_by(role: Role) -> dict[str, tuple[str, ...] | None]:
    """The tables a login of ``role`` may write: table → the only columns it may update
    (None: it may insert into, update and delete from the whole table)."""
    grants: dict[str, tuple[str, ...] | None] = {}
    for action in allowed_actions(role):
        for table in WRITES[action]:
            columns, known = COLUMNS.get((action, table)), grants.get(table, ())
            whole = columns is None or known is None
            grants[table] = None if whole else tuple(sorted({*(known or ()), *(columns or ())}))
    return grants


def is_set_up(conn: Connection) -> bool:
    """Whether ``accord team setup`` has run on this database."""
    granted = conn.execute(
        text(
            "SELECT count(*) FILTER (WHERE has_table_privilege(rolname, 'users', 'SELECT')) "
            "FROM pg_roles WHERE rolname = ANY(:names)"
        ),
        {"names": list(GROUPS.values())},
    )
    return bool(granted.scalar_one() == len(GROUPS))


def set_up(conn: Connection) -> None:
    """Make the group roles (once per server) and give them this database's grants and
    row-level security afresh; run by the database's owner, again after each upgrade."""
    quote = conn.dialect.identifier_preparer.quote
    for group in GROUPS.values():
        # Another database on the server may be making the same role at this moment.
        conn.exec_driver_sql(
            f"DO $$ BEGIN CREATE ROLE {quote(group)} NOLOGIN; "
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        )
    groups = ", ".join(quote(g) for g in GROUPS.values())
    schema = quote(conn.execute(text("SELECT current_schema()")).scalar_one())
    conn.exec_driver_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {groups}")
    conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {schema} TO {groups}")
    conn.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {groups}")
    conn.exec_driver_sql(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {groups}")
    for role, group in GROUPS.items():
        for table, columns in sorted(written_by(role).items()):
            if columns is None:
                privileges = "INSERT, UPDATE, DELETE"
            else:
                privileges = f"UPDATE ({', '.join(quote(c) for c in columns)})"
            conn.exec_driver_sql(f"GRANT {privileges} ON {quote(table)} TO {quote(group)}")
    for table in sorted(SYNC_TABLES):
        conn.exec_driver_sql(f"GRANT INSERT, UPDATE, DELETE ON {quote(table)} TO {groups}")
    for table, column in OWN_ROWS.items():
        conn.exec_driver_sql(f"ALTER TABLE {quote(table)} ENABLE ROW LEVEL SECURITY")
        for policy in ("accord_read", "accord_own_rows"):
            conn.exec_driver_sql(f"DROP POLICY IF EXISTS {policy} ON {quote(table)}")
        conn.exec_driver_sql(f"CREATE POLICY accord_read ON {quote(table)} FOR SELECT USING (true)")
        mine = f"{quote(column)} = session_user"
        conn.exec_driver_sql(
            f"CREATE POLICY accord_own_rows ON {quote(table)} USING ({mine}) WITH CHECK ({mine})"
        )


def set_login(conn: Connection, name: str, role: Role, create: bool) -> None:
    """Put the login ``name`` in the group of ``role`` (and only that one), making the
    login first if ``create``; a person without a login is left without one."""
    if not is_set_up(conn):
        if create:
            raise TeamNotSetUp()
        return
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :name"), {"name": name})
    login = conn.dialect.identifier_preparer.quote_identifier(name)
    if exists.first() is None:
        if not create:
            return
        conn.exec_driver_sql(f"CREATE ROLE {login} LOGIN")
    quote = conn.dialect.identifier_preparer.quote
    for other, group in GROUPS.items():
        if other is not role:
            conn.exec_driver_sql(f"REVOKE {quote(group)} FROM {login}")
    conn.exec_driver_sql(f"GRANT {quote(GROUPS[role])} TO {login}")
