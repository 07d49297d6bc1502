"""The outbox table, ``airlock_outbox``."""

from django.db import migrations, models


class Migration(migrations.Migration):
    """Create ``OutboxMessage``."""

    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="OutboxMessage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "intent_id",
                    models.UUIDField(help_text="Stable id, sent as the message id.", unique=True),
                ),
                (
                    "task",
                    models.CharField(
                        help_text="Registered task name or dotted path.", max_length=255
                    ),
                ),
                (
                    "executor",
                    models.CharField(help_text="Executor name or dotted path.", max_length=255),
                ),
                (
                    "payload",
                    models.TextField(
                        help_text='JSON: {"args": [...], "kwargs": {...}, "options": {...}}.'
                    ),
                ),
                (
                    "status",
                    models.PositiveSmallIntegerField(
                        choices=[(0, "pending"), (1, "delivered"), (2, "dead"), (3, "rejected")],
                        default=0,
                    ),
                ),
                ("attempts", models.PositiveIntegerField(default=0)),
                (
                    "enqueued_at",
                    models.DateTimeField(help_text="When the scope wrote it (its flush)."),
                ),
                (
                    "next_attempt_at",
                    models.DateTimeField(help_text="The relay leaves it alone until then."),
                ),
                ("delivered_at", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.TextField(blank=True, default="")),
            ],
            options={
                "verbose_name": "outbox message",
                "db_table": "airlock_outbox",
                "ordering": ["id"],
                "indexes": [
                    models.Index(fields=["status", "next_attempt_at"], name="airlock_outbox_due")
                ],
            },
        ),
    ]
