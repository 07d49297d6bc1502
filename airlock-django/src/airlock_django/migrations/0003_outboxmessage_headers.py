"""``OutboxMessage.headers``: an intent's headers travel through the outbox."""

from django.db import migrations, models


class Migration(migrations.Migration):
    """Add the nullable JSON column ``headers`` to ``airlock_outbox``."""

    dependencies = [("airlock", "0002_relayheartbeat")]

    operations = [
        migrations.AddField(
            model_name="outboxmessage",
            name="headers",
            field=models.JSONField(
                blank=True,
                help_text="The intent's headers (string keys and values, a trace context"
                " say), sent with the message.",
                null=True,
            ),
        ),
    ]
