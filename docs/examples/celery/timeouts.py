import os

from celery import Celery

app = Celery("timeouts", broker=os.environ.get("CELERY_BROKER_URL", "redis://localhost:6379/0"))

# Redis: each reply and each connect of a flush waits at most this long.
app.conf.broker_transport_options = {"socket_timeout": 10, "socket_connect_timeout": 5}
# On RabbitMQ the same settings are called "read_timeout" and "write_timeout".

# Celery's own setting: kombu retries a connection for this long, and it stands in
# for any socket timeout the transport options leave unset.
app.conf.broker_connection_timeout = 5
