from myapp import app

import airlock

USERS = {}


class Response:
    def __init__(self, data):
        self.data = data


def call_enrichment_service(user):
    return Response({"age": 42, "income": 50_000})


def fetch_user(user_id):
    return USERS.setdefault(user_id, User(user_id))


@app.task
def log_api_usage(user_id, data):
    print(f"api usage by {user_id}: {data}")


class User:
    def __init__(self, id):
        self.id = id
        self.age = self.income = None

    def save(self):
        USERS[self.id] = self
        airlock.enqueue(enrich_from_api, user_id=self.id)


def external_enrichment_api(user):
    response = call_enrichment_service(user)
    airlock.enqueue(log_api_usage, user.id, response.data)
    return response.data["age"], response.data["income"]


@app.task
def enrich_from_api(user_id):
    user = fetch_user(user_id)
    with airlock.scope():
        age, income = external_enrichment_api(user)
        user.age, user.income = age, income
        with airlock.policy(airlock.BlockTasks({"enrich_from_api"})):
            user.save()
