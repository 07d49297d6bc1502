from celery import Task
from myapp import app

import airlock


class TenantTask(Task):
    """Gives every run the deployment's tenant: callers never pass it."""

    def __call__(self, *args, **kwargs):
        return super().__call__(*args, tenant="acme", **kwargs)


@app.task(base=TenantTask, typing=False)  # the signature names an argument callers omit
def monthly_report(month, tenant):
    print(f"report for {tenant}, {month}")


def request_report():
    with airlock.scope():
        airlock.enqueue(monthly_report, "2026-01")  # not checked, as .delay() does not check it
