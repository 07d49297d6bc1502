from tasks import audit

import airlock


class User:
    def __init__(self, user_id: int) -> None:
        self.id = user_id

    def save(self) -> None:
        # Every save enqueues enrichment: fine for the app, a loop for enrich_user.
        airlock.enqueue(enrich_user, self.id, _dispatch_options={"queue": "rq_users"})
        airlock.enqueue(audit, f"saved user {self.id}", _dispatch_options={"queue": "rq_users"})


def enrich_user(user_id: int) -> None:
    user = User(user_id)
    audit(f"enriching user {user_id}")
    with airlock.policy(airlock.BlockTasks({"enrich_user"})):
        user.save()  # enrich_user is dropped, the audit job goes out
