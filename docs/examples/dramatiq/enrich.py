import dramatiq
from app import log

import airlock


class User:
    def __init__(self, user_id: int) -> None:
        self.id = user_id

    def save(self) -> None:
        # Every save enqueues enrichment: fine for the app, a loop for enrich_user.
        airlock.enqueue(enrich_user, self.id)
        airlock.enqueue(audit, f"saved user {self.id}")


@dramatiq.actor(queue_name="dramatiq_users")
def audit(line: str) -> None:
    log(f"audit: {line}")


@dramatiq.actor(queue_name="dramatiq_users")
def enrich_user(user_id: int) -> None:
    log(f"enriching user {user_id}")
    with airlock.policy(airlock.BlockTasks({"enrich_user"})):
        User(user_id).save()  # enrich_user is dropped, audit goes out
