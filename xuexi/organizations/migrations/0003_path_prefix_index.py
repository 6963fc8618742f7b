"""A pattern index on the tree path for PostgreSQL.

Subtree queries are ``path LIKE 'prefix%'``. Under a non-C collation PostgreSQL cannot use the
unique index treebeard creates for such a prefix match; ``varchar_pattern_ops`` can. SQLite's
case-insensitive LIKE cannot use an index either; it scans the (small, embedded-demo) table.
"""

from django.db import migrations

INDEX = "organizations_organization_path_prefix"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} "
            "ON organizations_organization (path varchar_pattern_ops)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("organizations", "0002_invitations_and_join_requests")]

    operations = [migrations.RunPython(create_index, drop_index)]
