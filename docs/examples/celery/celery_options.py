from myapp import send_email

import airlock

with airlock.scope():
    airlock.enqueue(
        send_email,
        user_id=123,
        _dispatch_options={
            "countdown": 60,  # not before a minute from now
            "queue": "emails",  # the workers that read "emails"
            "priority": 9,  # for brokers that order messages by priority
        },
    )
# send_email.apply_async(args=(), kwargs={"user_id": 123}, countdown=60, queue="emails", priority=9)
