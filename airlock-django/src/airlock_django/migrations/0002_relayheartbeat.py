"""The relays' heartbeats, ``airlock_relay``."""

from django.db import migrations, models


class Migration(migrations.Migration):
    """Create ``RelayHeartbeat``."""

    dependencies = [("airlock", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="RelayHeartbeat",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "name",
                    models.CharField(
                        help_text="host:pid of the relay, or the periodic task.",
                        max_length=255,
                        unique=True,
                    ),
                ),
                (
                    "database",
                    models.CharField(
                        help_text="The database alias whose outbox it relays.", max_length=255
                    ),
                ),
                ("seen_at", models.DateTimeField(help_text="Its last pass.")),
                (
                    "stale_after",
                    models.FloatField(help_text="Seconds after seen_at when it counts as gone."),
                ),
            ],
            options={"verbose_name": "relay heartbeat", "db_table": "airlock_relay"},
        ),
    ]
