# celery.py
from celery import Celery

from airlock.integrations.celery import install_global_intercept

app = Celery("myapp")

# every task of this app, from now on
install_global_intercept(app)


@app.task
def notify_warehouse(order_id):
    print(f"warehouse notified about {order_id}")
