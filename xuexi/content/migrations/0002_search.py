"""The full-text index of ``Item.search_text`` (ADR 0010), one per database.

PostgreSQL: a GIN index over ``to_tsvector('simple', search_text)``, kept in a stored
generated column ``search_vector`` that the database computes on every write (nothing in the
code keeps it up to date, and the ORM does not see it). Stored, not only indexed: recomputing
the vector of a long article costs about a millisecond, and both ranking and any plan that
checks a match outside the index (the planner counts ``to_tsvector`` as cheap) would pay it for
every row they read — a search for a common word took over a second over 20,000 articles with
an expression index, 18 ms with the stored column (ADR 0010). No Django field can declare the
column, since SQLite has no ``to_tsvector``. Its type ties ``search_text``: a migration that
changes that column's type must drop and re-add ``search_vector``.

SQLite: an FTS5 table over the same column with external content (it stores only the index,
and reads ``content_item`` for the text), kept in step by triggers. The update trigger fires
only when ``search_text`` is written, so counters (``read_count``) cost the index nothing.

Nothing is created on other databases. The state of the models is unchanged.

Caution for later migrations on SQLite: Django rebuilds a table to alter most of its columns
(a new table, a copy, a rename), and dropping the old table drops these triggers with it. A
migration that does so must create them again (``xuexi/content/tests/test_search.py`` fails
when they are missing).
"""

from django.db import migrations

PG_FORWARD = [
    "ALTER TABLE content_item ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('simple'::regconfig, COALESCE(search_text, ''))) STORED",
    "CREATE INDEX item_search ON content_item USING gin (search_vector)",
]

PG_BACKWARD = [
    "DROP INDEX IF EXISTS item_search",
    "ALTER TABLE content_item DROP COLUMN IF EXISTS search_vector",
]

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE content_item_fts USING fts5("
    "search_text, content='content_item', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER content_item_fts_insert AFTER INSERT ON content_item BEGIN "
    "INSERT INTO content_item_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER content_item_fts_delete AFTER DELETE ON content_item BEGIN "
    "INSERT INTO content_item_fts(content_item_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER content_item_fts_update AFTER UPDATE OF search_text ON content_item BEGIN "
    "INSERT INTO content_item_fts(content_item_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO content_item_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    # Index the rows that exist already.
    "INSERT INTO content_item_fts(content_item_fts) VALUES ('rebuild')",
]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS content_item_fts_update",
    "DROP TRIGGER IF EXISTS content_item_fts_delete",
    "DROP TRIGGER IF EXISTS content_item_fts_insert",
    "DROP TABLE IF EXISTS content_item_fts",
]

STATEMENTS = {
    "postgresql": (PG_FORWARD, PG_BACKWARD),
    "sqlite": (SQLITE_FORWARD, SQLITE_BACKWARD),
}


def create_index(apps, schema_editor):
    forward, _backward = STATEMENTS.get(schema_editor.connection.vendor, ([], []))
    for statement in forward:
        schema_editor.execute(statement)


def drop_index(apps, schema_editor):
    _forward, backward = STATEMENTS.get(schema_editor.connection.vendor, ([], []))
    for statement in backward:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("content", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
