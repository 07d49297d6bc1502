"""Process-wide defaults; explicit arguments to scope() still win."""

import airlock

airlock.configure(executor="sync", policy="drop_all")
try:
    ran = []
    with airlock.scope():
        airlock.enqueue(ran.append, "held back")
    with airlock.scope(policy=airlock.AllowAll()):
        airlock.enqueue(ran.append, "explicit policy wins")
    assert ran == ["explicit policy wins"]
finally:
    airlock.reset_configuration()
