"""Policies decide which intents escape; `airlock.policy()` layers one over a block."""

import airlock

ran = []


def enrich_from_api(user_id: int) -> None:
    ran.append(("enrich_from_api", user_id))


def log_api_usage(user_id: int) -> None:
    ran.append(("log_api_usage", user_id))


with airlock.scope():
    airlock.enqueue(log_api_usage, 1)
    with airlock.policy(airlock.BlockTasks({"enrich_from_api"})):
        airlock.enqueue(enrich_from_api, 1)  # dropped at flush
        airlock.enqueue(log_api_usage, 2)  # allowed
assert ran == [("log_api_usage", 1), ("log_api_usage", 2)]

# Dedupe: a bulk loop that enqueues the same task 10,000 times sends it once.
ran.clear()
with airlock.scope(policy=airlock.Dedupe()):
    for _ in range(10_000):
        airlock.enqueue(enrich_from_api, 7)
assert ran == [("enrich_from_api", 7)]

# AssertNoEffects: code that must stay pure fails at the call site.
try:
    with airlock.scope(policy=airlock.AssertNoEffects()):
        airlock.enqueue(log_api_usage, 3)
except airlock.PolicyViolation as exc:
    assert "log_api_usage" in str(exc)
else:
    raise AssertionError("AssertNoEffects let an effect through")
