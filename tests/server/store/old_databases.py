"""Databases as an earlier Multichat made them, on either engine, to upgrade in tests.

The SQLite dumps in ``data/`` are the frozen record of each released version;
this builds the same content at any version on PostgreSQL too, by running the
migration steps up to that version only.
"""

from __future__ import annotations

from multichat.server.store import migrations as schema
from multichat.server.store.database import open_database
from multichat.server.store.models import database as bound_models


def make_old_database(url: str, version: int) -> None:
    """A database at schema ``version`` with user 'veteran' and room 'Archive' holding
    messages 1 to 3."""
    db = open_database(url)
    bound_models.initialize(db)
    try:
        with db.atomic():
            for step in range(1, version + 1):
                schema.STEPS[step](db)
            db.execute_sql("INSERT INTO \"meta\" (\"key\", \"value\") "
                           f"VALUES ('schema_version', '{version}')")
            db.execute_sql("INSERT INTO \"account\" (\"username\", \"username_key\", "
                           "\"password_hash\", \"is_staff\", \"is_superuser\", \"created_ms\") "
                           "VALUES ('veteran', 'veteran', 'h', false, true, 1)")
            db.execute_sql("INSERT INTO \"room\" (\"title\", \"title_key\", \"staff_only\", "
                           "\"last_seq\", \"created_ms\") "
                           "VALUES ('Archive', 'archlve', false, 3, 1)")
            for seq in (1, 2, 3):
                db.execute_sql(
                    "INSERT INTO \"message\" (\"room_id\", \"seq\", \"account_id\", \"username\", "
                    "\"msg_type\", \"text\", \"client_id\", \"ts_ms\") VALUES "
                    f"(1, {seq}, 1, 'veteran', 0, 'message {seq}', 'c{seq}', {seq})")
    finally:
        db.close()
