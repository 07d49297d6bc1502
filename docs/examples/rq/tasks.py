"""Job functions: plain functions in an importable module, as RQ wants them."""

from rq import get_current_job


def _log(line: str) -> None:
    # Each job notes what it did in Redis, so the docs tests can check it.
    job = get_current_job()
    if job is not None:
        job.connection.rpush("rq_docs:log", line)


def send_email(user_id: int) -> None:
    _log(f"email to user {user_id}")


def notify_warehouse(order_id: int) -> None:
    _log(f"warehouse notified of order {order_id}")


def audit(line: str) -> None:
    _log(f"audit: {line}")
