"""OpenTelemetry for airlock: one trace from the code that enqueued to the worker that ran it.

Installed, the ``opentelemetry`` plugin (entry point in the ``airlock``
group) captures the trace context (W3C ``traceparent`` / ``tracestate``, and
``baggage``, through whatever propagators the application configured) of each
``airlock.enqueue()`` into the intent's headers. The executors carry them in
the message, the outbox stores them with the row, and the worker integrations
hand them back to the plugin, which runs the task inside a span whose parent
is the span that enqueued it (or, with ``configure(task_context="link")``, a
span linked to it). The plugin also records a span per flush and metrics of
airlock's own work.

Nothing here configures an OpenTelemetry SDK: the application does. Without
one, the API's no-op tracer and meter make every hook a no-op.
"""

from __future__ import annotations

from airlock_opentelemetry.outbox import observe_outbox
from airlock_opentelemetry.settings import configure, reset_configuration, task_context

__version__ = "0.1.0"

__all__ = ["configure", "observe_outbox", "reset_configuration", "task_context"]
