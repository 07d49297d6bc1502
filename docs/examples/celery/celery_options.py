from myapp import send_email

import airlock

with airlock.scope():
    airlock.enqueue(
        send_email,
        user_id=123,
        _dispatch_options={
            "countdown": 60,  # Delay 60 seconds
            "queue": "emails",  # Use specific queue
            "priority": 9,  # High priority
        },
    )
# send_email.apply_async(args=(), kwargs={"user_id": 123}, countdown=60, queue="emails", priority=9)
