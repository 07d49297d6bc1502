from app import send_email

import airlock

with airlock.scope():
    try:
        airlock.enqueue(send_email, usr_id=42)  # a typo: refused here, not after the flush
    except TypeError as error:  # airlock.TaskArgumentError is a TypeError
        print(error)
    airlock.enqueue(send_email, user_id=42)  # the scope goes on; this one is sent
