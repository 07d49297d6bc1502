"""Task hooks: claim a kind of task, find tasks by name, tell their signature."""

from collections.abc import Sequence

import airlock

#: A toy framework: its tasks are objects registered by name.
REGISTRY: dict[str, "Job"] = {}


class Job:
    """A task of the toy framework: not meant to run in the web process."""

    def __init__(self, fn: object) -> None:
        self.fn = fn
        self.name = f"jobs.{fn.__name__}"  # type: ignore[attr-defined]
        REGISTRY[self.name] = self

    def __call__(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("a job runs on a worker, never here")


queued: list[str] = []


class JobsExecutor:
    """Queues jobs; the toy framework's worker would run them."""

    def __call__(self, intent: airlock.Intent) -> None:
        self.dispatch_many([intent])

    def dispatch_many(self, intents: Sequence[airlock.Intent]) -> None:
        queued.extend(f"{i.task.name}{i.args}" for i in intents)


class JobsPlugin:
    @airlock.hookimpl
    def airlock_register_executors(self) -> dict[str, object]:
        return {"jobs": JobsExecutor()}

    @airlock.hookimpl
    def airlock_register_task_kinds(self) -> dict[str, str]:
        # An import path, so that telling a task's kind imports nothing.
        return {f"{Job.__module__}.{Job.__qualname__}": "jobs"}

    @airlock.hookimpl
    def airlock_resolve_task(self, name: str) -> object | None:
        return REGISTRY.get(name)  # only what the application registered

    @airlock.hookimpl
    def airlock_task_signature(self, task: object) -> object | None:
        return task.fn if isinstance(task, Job) else None  # check arguments against fn


def resize(image_id: int, width: int = 800) -> None:
    """The job's function."""


resize_job = Job(resize)
ran_here: list[str] = []

airlock.plugins.register(JobsPlugin(), name="jobs")
try:
    with airlock.scope():  # no executor configured: each intent goes where its kind goes
        airlock.enqueue(resize_job, 42)
        airlock.enqueue(ran_here.append, "a plain callable runs in-process")
        try:
            airlock.enqueue(resize_job, 42, height=600)
        except airlock.TaskArgumentError as refused:  # a TypeError too, as calling would be
            assert "unexpected keyword argument 'height'" in str(refused)
    assert airlock.plugins.resolve_task("jobs.resize") is resize_job
    assert airlock.plugins.executor_name_for(resize_job) == "jobs"
finally:
    airlock.plugins.unregister("jobs")
assert queued == ["jobs.resize(42,)"]
assert ran_here == ["a plain callable runs in-process"]
