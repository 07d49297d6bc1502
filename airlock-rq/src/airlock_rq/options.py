"""Turn an intent into what RQ's ``Queue`` takes: a queue name, a job reference, options.

The accepted options are read from the installed RQ (``Queue.enqueue_call``),
so every RQ version gets exactly the options it supports, under the names
``Queue.enqueue`` uses (``job_timeout``, ``result_ttl``, ``ttl``, ...). Two more
are airlock's, after the ``Queue`` methods they select: ``enqueue_at`` (a
``datetime``) and ``enqueue_in`` (a ``timedelta``) schedule the job.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from rq import Queue

from airlock import Intent, UsageError
from airlock.plugins import why_not_importable

#: Parameters that are not options: the call itself, and the pipeline airlock owns.
_NOT_OPTIONS = frozenset({"self", "func", "args", "kwargs", "pipeline"})


def _option_names(method: Callable[..., Any]) -> frozenset[str]:
    names = set(inspect.signature(method).parameters) - _NOT_OPTIONS
    if "timeout" in names:  # Queue.enqueue calls it job_timeout
        names.discard("timeout")
        names.add("job_timeout")
    return frozenset(names)


#: Every option ``Queue.enqueue`` accepts, besides ``queue`` (airlock's own).
ENQUEUE_OPTIONS = _option_names(Queue.enqueue_call)
#: Options a batch (``Queue.prepare_data`` / ``enqueue_many``) carries. Jobs with
#: ``depends_on`` go one by one, so RQ checks their dependencies at enqueue.
BATCH_OPTIONS = _option_names(Queue.prepare_data) - {"depends_on"}


#: The key of a job's ``meta`` that carries ``Intent.headers`` to the worker (``AirlockJob``).
HEADERS = "airlock_headers"

#: airlock's scheduling options: each names the ``Queue`` method that takes its value.
SCHEDULING_OPTIONS = {"enqueue_at": datetime, "enqueue_in": timedelta}


class Prepared(NamedTuple):
    """One intent, checked and ready for RQ.

    ``schedule`` is ``("enqueue_at", datetime)`` or ``("enqueue_in", timedelta)``
    for a scheduled job (then ``options`` keep ``Queue.enqueue``'s names), else None.
    """

    intent: Intent
    queue: str
    func: Callable[..., Any] | str
    options: dict[str, Any]
    batchable: bool
    schedule: tuple[str, datetime | timedelta] | None = None


def prepare(intent: Intent, default_queue: str) -> Prepared:
    """Check ``intent`` for RQ and split its dispatch options; ``UsageError`` says what is wrong."""
    options = dict(intent.dispatch_options or {})
    queue = options.pop("queue", default_queue)
    if not isinstance(queue, str) or not queue:
        raise UsageError(
            f"{intent!r}: _dispatch_options['queue'] must be an RQ queue name, got {queue!r}."
        )
    schedule = _schedule(intent, options)
    unknown = sorted(set(options) - ENQUEUE_OPTIONS)
    if unknown:
        raise UsageError(
            f"{intent!r}: unknown RQ option(s) {', '.join(map(repr, unknown))}. The rq"
            f" executor accepts 'queue', 'enqueue_at', 'enqueue_in' and the options of"
            f" Queue.enqueue: {', '.join(sorted(ENQUEUE_OPTIONS))}."
        )
    job_id = options.get("job_id")
    if job_id is not None and (not isinstance(job_id, str) or not job_id):
        raise UsageError(
            f"{intent!r}: 'job_id' is the job's id, a non-empty string (or None: RQ makes"
            f" one); got {job_id!r}."
        )
    if intent.headers:
        options["meta"] = {**(options.get("meta") or {}), HEADERS: dict(intent.headers)}
    if schedule is not None:  # Queue.enqueue_at/enqueue_in, one job at a time
        return Prepared(intent, queue, _job_reference(intent), options, False, schedule)
    batchable = options.keys() <= BATCH_OPTIONS
    if "job_timeout" in options:  # Queue.enqueue_call and prepare_data call it timeout
        options["timeout"] = options.pop("job_timeout")
    return Prepared(intent, queue, _job_reference(intent), options, batchable)


def _schedule(intent: Intent, options: dict[str, Any]) -> tuple[str, Any] | None:
    """Take the scheduling option out of ``options``, checked: (method name, when) or None."""
    given = [(name, options.pop(name)) for name in SCHEDULING_OPTIONS if name in options]
    if not given:
        return None
    if len(given) > 1:
        raise UsageError(
            f"{intent!r}: give 'enqueue_at' (a datetime) or 'enqueue_in' (a timedelta), not both."
        )
    [(name, when)] = given
    kind = SCHEDULING_OPTIONS[name]
    if not isinstance(when, kind):
        raise UsageError(
            f"{intent!r}: {name!r} must be a {kind.__module__}.{kind.__name__}, got"
            f" {when!r} ({type(when).__name__}); e.g. {{'enqueue_in': timedelta(minutes=5)}}"
            f" or {{'enqueue_at': datetime(2030, 1, 1, 9, 0, tzinfo=timezone.utc)}}."
        )
    return name, when


def _job_reference(intent: Intent) -> Callable[..., Any] | str:
    """The task, if an RQ worker can import it again by name."""
    task: Callable[..., Any] | str = intent.task
    problem = why_not_importable(task)
    if problem is not None:
        raise UsageError(
            f"{intent!r}: RQ workers import a job's function by its dotted path, and {problem}."
        )
    return task
