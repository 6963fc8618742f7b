"""Finer planner statistics for the tree path on PostgreSQL.

With the default sample the planner guesses ~25 nodes under a county that holds ~1,500, and
picks a poor plan for a county's member page; a larger statistics target fixes the estimate
(measured in bench/: docs/benchmarks.md).
"""

from django.db import migrations


def raise_target(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE organizations_organization ALTER COLUMN path SET STATISTICS 1000"
        )


def reset_target(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE organizations_organization ALTER COLUMN path SET STATISTICS -1"
        )


class Migration(migrations.Migration):
    dependencies = [("organizations", "0003_roster_upload")]

    operations = [migrations.RunPython(raise_target, reset_target)]
