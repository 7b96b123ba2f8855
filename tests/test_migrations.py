"""Released migrations stay as they landed, and workspaces made before 0003 and 0005 were
edited are brought in line by 0006, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, inspect, select

from storage.schema import AccountRow, AccountScoreRow, Base, ContactRow
from storage.workspace import MIGRATIONS, head_revision, open_workspace, schema_revision

#: The SHA-256 of every released migration file, by revision (line endings as in the
#: repository). A landed migration is never edited: a fix is a new migration. Add a new
#: migration's hash here when it lands.
RELEASED = {
    "0001": "a0bc5b30ca0a5fb9825d693f7e8b02856842117b864adf317f34252994c7ab82",
    "0002": "4652b8b87eda071a7b94d04a105dcda52b4fd2222d47802a3134f939d334f451",
    "0003": "5c3a027ce8fe52ad0df4cb64c77eeef236c89aa60ac6b3098af3a39c61b374da",
    "0004": "519440e77f812ac466a9bce28d5ffad1fff021659da39cf8e43c2b6c68b7d6d8",
    "0005": "b269800c69ad893a7a4db97a25d870112fdd770b9052a7bd12966472f13fc0bc",
    "0006": "f69893788d58c28b62c53053d49ef06e5021cee7e79cfc3dda535266186fc778",
    "0007": "094897744470a53aefc9a1e171a568a5dd670459abad690a9941ca0166c15183",
    "0008": "08b5683d1c243ae061e7453dabfd0617f6fe3c1e42b229ef16eb3353fe579ec7",
    "0009": "a38c1d2c9e72e603f2e6b60b64c24bee4fa6ffeb062340305b3bd0ecd5f5d769",
    "0010": "7d37cc63019110f2511059e93c5fd9f85203987a3dadbeff089a56ce3224fab6",
    "0011": "3c8e82e66556ac6a133299bdc402a957e21c05015968851a044204835ebee06b",
    "0012": "c0de8c8ef9a8b37cddf80f1f4850dbc09692deb6c6c6eb71f98c71c0bdb11af7",
    "0013": "cfdb454c4a837d86df7502a7ac32a6f866d5b43426cf5877599b5c0a3791e8c6",
    "0014": "37556d22773cb785bc597f19e4f35b5b7f27c42a4d14aa63ed0c0c8303415ff3",
    "0015": "1bfe307c4fb363adafa34a59475c92954868b7f84e46d314796276c35fa453de",
    "0016": "c10883384ae15c0ec53effdc6a98e61991ffba6abca1d1477852e0fe1baaf4cd",
    "0017": "a98aea3d937f81be6a1971da56e9321bf9d1afdac16a3516d34511c374a80490",
    "0018": "c917be936595db115008efbd3c47227a3128539922f53618235c863b18cb492e",
    "0019": "abba25e0d7f9d7245a5204d10af2ad9b1e5fbdd15902d991ab1a9f447c20f44b",
    "0020": "9e4f51139d19e987f625ca9c46769af82c6d8efd5575ceef589c601e8d17616f",
    "0021": "9b0ad8ea26566d8632e95d8ecb2c37d760b92316ed7d486673d57053a46f4032",
    "0022": "a951e0344be0d4fb1638594b0e64bbcc7fce143bc2b81576fb75447605df5a53",
    "0023": "275610655fc0974f5c770eccb32f132623fdb13b2ae76c540ad21007a9c4e37d",
    "0024": "a59199c3ebf2650e11921b235d2f438f66deae02f781a467bc6ccf1db20413b2",
    "0025": "f2a22387a138a27139b94bd0405e29bcedc38d1929995e2501251483565d2a3e",
    "0026": "aae9b4aa8b3d12719b7f09cb9361eedd80deb6efaf50db8eae936de019493154",
    "0027": "66469a84a1bbb2cd7fbffad9f7e947408d38f302aa13d80886d8fb6237ce3493",
}
#: The first versions of the migrations that were edited after they had upgraded
#: workspaces (0003 at c029b87, 0005 at 6387786), as they were released.
AS_FIRST_RELEASED = Path(__file__).with_name("data") / "edited_migrations"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


def test_a_released_migration_is_never_edited():
    found = {p.name[:4]: _sha256(p) for p in (MIGRATIONS / "versions").glob("[0-9]*.py")}
    changed = sorted(rev for rev, digest in RELEASED.items() if found.get(rev) != digest)
    assert changed == [], "a released migration changed: undo the edit, write a new migration"
    assert sorted(found) == sorted(RELEASED), "record the new migration's hash in RELEASED"


def _scripts_as_first_released(tmp_path: Path) -> Config:
    """Accord's migrations up to 0005 with 0003 and 0005 as they were first released."""
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    for later in (scripts / "versions").glob("[0-9]*.py"):
        if later.name > "0006":
            later.unlink()
    for old in AS_FIRST_RELEASED.glob("*.py"):
        shutil.copy(old, scripts / "versions" / old.name)
    config = Config()
    config.set_main_option("script_location", str(scripts))
    return config


def _old_workspace(db_url: str, config: Config) -> tuple[uuid.UUID, uuid.UUID]:
    """A workspace at 0005 made by ``config``'s migrations, with an account, its
    decision-maker and its score; returns the account's and the contact's ids."""
    account_id, contact_id = uuid.uuid4(), uuid.uuid4()
    old = open_workspace(db_url, migrate=False)
    with old.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0005")
        conn.execute(insert(AccountRow.__table__).values(
            id=account_id, name="Old Co", name_key="old co", search_text=" old co ",
            changed_by="Ann"))  # fmt: skip
        conn.execute(insert(ContactRow.__table__).values(
            id=contact_id, account_id=account_id, name="Dana Boss", decision_maker=True,
            changed_by="Ann"))  # fmt: skip
        conn.execute(insert(AccountScoreRow.__table__).values(
            account_id=account_id, score=80, tier="A"))  # fmt: skip
    old.close()
    return account_id, contact_id


def test_a_workspace_made_before_the_edits_ends_up_as_the_models_with_its_data(db_url, tmp_path):
    account_id, contact_id = _old_workspace(db_url, _scripts_as_first_released(tmp_path))
    upgraded = open_workspace(db_url)
    with upgraded.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        assert conn.execute(select(AccountRow.name)).scalars().all() == ["Old Co"]
        assert conn.execute(select(ContactRow.id, ContactRow.decision_maker)).all() == [
            (contact_id, True)
        ]
        assert conn.execute(select(AccountScoreRow.__table__)).all() == [
            (account_id, 80, "A", None)
        ]
        if upgraded.is_sqlite:  # the copy that dropped the foreign key kept the table's shape
            sql = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'account_scores'"
            ).scalar_one()
            assert "WITHOUT ROWID" in sql
    assert schema_revision(upgraded) == head_revision()
    upgraded.close()


def test_0006_leaves_a_workspace_made_by_todays_migrations_as_it_is(tmp_path):
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    path = tmp_path / "today.sqlite"
    _old_workspace(str(path), config)
    workspace = open_workspace(path, migrate=False)

    def schema() -> list[tuple[str, int, str]]:
        with workspace.read() as conn:
            # a table copied or an index made again gets a new root page
            rows = conn.exec_driver_sql("SELECT name, rootpage, sql FROM sqlite_master")
            return sorted(tuple(row) for row in rows if row[0] != "alembic_version")

    before = schema()
    with workspace.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0006")
    assert schema() == before
    assert inspect(workspace.engine).get_foreign_keys("account_scores") == []
    workspace.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_old_workspace_really_lacks_what_0006_repairs(db_url, tmp_path):
    """The premise of the test above: the first releases made a different schema."""
    _old_workspace(db_url, _scripts_as_first_released(tmp_path))
    old = open_workspace(db_url, migrate=False)
    found = inspect(old.engine)
    assert [fk["referred_table"] for fk in found.get_foreign_keys("account_scores")] == ["accounts"]
    indexes = {i["name"] for t in ("accounts", "contacts") for i in found.get_indexes(t)}
    assert not {"ix_accounts_live_search_text", "ix_contacts_live_decision_maker"} & indexes
    old.close()
