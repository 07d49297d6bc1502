from app import send_email

import airlock


def remember_signup(user_id: int) -> None:
    print(f"signup {user_id} remembered in this process")


# No executor configured anywhere: each task goes where its kind belongs.
with airlock.scope():
    airlock.enqueue(send_email, 42)  # a Dramatiq actor: sent to the broker
    airlock.enqueue(remember_signup, 42)  # a plain function: called here, at the flush
