"""Django + Celery with airlock-opentelemetry: one trace from the request to the task.

Runs as it is (``python django_celery.py``): an in-memory span exporter, Django on
SQLite in memory, and a Celery app in eager mode, so the task runs here, through
the same task call path a worker takes. With a real broker and worker nothing
changes but where the task's span is exported. The second part goes through the
outbox: the request only writes a row, and a relay pass publishes it later,
outside any request, still in the request's trace.
"""

import django
from django.conf import settings

# --8<-- [start:sdk]
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()  # in production: an OTLP exporter, in a BatchSpanProcessor
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
# --8<-- [end:sdk]

settings.configure(
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    INSTALLED_APPS=["airlock.integrations.django"],
    AIRLOCK={"EXECUTOR": "celery", "SCOPE": "django", "OUTBOX": {"FAST_PATH": False}},
    USE_TZ=True,
)
django.setup()

# --8<-- [start:app]
from celery import Celery  # noqa: E402
from django.db import transaction  # noqa: E402

import airlock  # noqa: E402
from airlock_celery import ScopedTask  # noqa: E402

app = Celery("shop", broker="memory://")
app.conf.task_always_eager = True  # this example only: run tasks here, not on a worker
tracer = trace.get_tracer("shop")


@app.task(base=ScopedTask, name="shop.send_receipt")
def send_receipt(order_id: int) -> None:
    with tracer.start_as_current_span("render receipt"):
        pass


def place_order(order_id: int) -> None:
    """What a view does: the request's span is current (Django's instrumentation opens it)."""
    with (
        tracer.start_as_current_span("POST /orders"),
        transaction.atomic(),
        airlock.scope(),  # a DjangoScope: it publishes after the commit
    ):
        airlock.enqueue(send_receipt, order_id)


# --8<-- [end:app]


# --8<-- [start:check]
place_order(42)
spans = {span.name: span for span in exporter.get_finished_spans()}
request = spans["POST /orders"]
for name in ("airlock flush", "process shop.send_receipt", "render receipt"):
    assert spans[name].context.trace_id == request.context.trace_id, name
assert spans["process shop.send_receipt"].parent.span_id == request.context.span_id
print(" > ".join(reversed(list(spans))))
# --8<-- [end:check]

# --8<-- [start:outbox]
from django.core.management import call_command  # noqa: E402

from airlock_django.periodic import relay_pass  # noqa: E402

call_command("migrate", verbosity=0)  # the outbox table
exporter.clear()


def place_order_durably(order_id: int) -> None:
    """With FAST_PATH off, the request writes the row and the relay publishes it."""
    with (
        tracer.start_as_current_span("POST /orders/durable"),
        transaction.atomic(),
        airlock.scope(_cls="outbox"),
    ):
        airlock.enqueue(send_receipt, order_id)


place_order_durably(43)
assert not [s for s in exporter.get_finished_spans() if s.name.startswith("process")]
relay_pass(every=60)  # later, in the relay's process: no span is current here
finished = sorted(exporter.get_finished_spans(), key=lambda span: span.start_time or 0)
assert len({span.context.trace_id for span in finished}) == 1  # one trace, hours apart or not
print(" > ".join(span.name for span in finished))
# --8<-- [end:outbox]
