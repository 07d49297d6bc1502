"""Turn an intent into what RQ's ``Queue`` takes: a queue name, a job reference, options.

The accepted options are read from the installed RQ (``Queue.enqueue_call``),
so every RQ version gets exactly the options it supports, under the names
``Queue.enqueue`` uses (``job_timeout``, ``result_ttl``, ``ttl``, ...).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

from rq import Queue

from airlock import Intent, UsageError

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


class Prepared(NamedTuple):
    """One intent, checked and ready for RQ."""

    intent: Intent
    queue: str
    func: Callable[..., Any] | str
    options: dict[str, Any]
    batchable: bool


def prepare(intent: Intent, default_queue: str) -> Prepared:
    """Check ``intent`` for RQ and split its dispatch options; ``UsageError`` says what is wrong."""
    options = dict(intent.dispatch_options or {})
    queue = options.pop("queue", default_queue)
    if not isinstance(queue, str) or not queue:
        raise UsageError(
            f"{intent!r}: _dispatch_options['queue'] must be an RQ queue name, got {queue!r}."
        )
    unknown = sorted(set(options) - ENQUEUE_OPTIONS)
    if unknown:
        raise UsageError(
            f"{intent!r}: unknown RQ option(s) {', '.join(map(repr, unknown))}. The rq"
            f" executor accepts 'queue' and the options of Queue.enqueue:"
            f" {', '.join(sorted(ENQUEUE_OPTIONS))}."
        )
    job_id = options.get("job_id")
    if job_id is not None and (not isinstance(job_id, str) or not job_id):
        raise UsageError(
            f"{intent!r}: 'job_id' is the job's id, a non-empty string (or None: RQ makes"
            f" one); got {job_id!r}."
        )
    batchable = options.keys() <= BATCH_OPTIONS
    if "job_timeout" in options:
        options["timeout"] = options.pop("job_timeout")
    return Prepared(intent, queue, _job_reference(intent), options, batchable)


def _job_reference(intent: Intent) -> Callable[..., Any] | str:
    """The task, if an RQ worker can import it again by name."""
    task: Callable[..., Any] | str = intent.task
    if isinstance(task, str):
        if "." not in task:
            raise UsageError(
                f"{intent!r}: RQ imports jobs by dotted path; {task!r} is not one"
                f" (write 'package.module.function')."
            )
        return task
    function = getattr(task, "__func__", task)
    if inspect.isfunction(function):
        module, qualname = function.__module__, function.__qualname__
        if module == "__main__" or "<" in qualname:
            raise UsageError(
                f"{intent!r}: RQ workers import a job's function by its dotted path, and"
                f" {module}.{qualname} cannot be imported (a lambda, a nested function or"
                f" a function of __main__). Move it to a module."
            )
    return task
