from myapp import send_email

import airlock

with airlock.scope():
    try:
        airlock.enqueue(send_email, order_idd=7)  # a typo, refused as .delay() refuses it
    except TypeError as error:  # an airlock.TaskArgumentError
        print(error)  # ... send_email() got an unexpected keyword argument 'order_idd' ...
    airlock.enqueue(send_email, order_id=7)  # the scope goes on
# Only the second call is published
