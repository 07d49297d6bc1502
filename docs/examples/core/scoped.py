"""@airlock.scoped() gives every call its own scope: plain, async and methods alike."""

import asyncio

import airlock

ran = []


def notify(name: str) -> None:
    ran.append(name)


@airlock.scoped()
def handle(name: str) -> None:
    airlock.enqueue(notify, name)


@airlock.scoped(policy=airlock.DropAll())
async def dry_run(name: str) -> None:
    airlock.enqueue(notify, name)


class Service:
    @airlock.scoped()
    def run(self, name: str) -> None:
        airlock.enqueue(notify, name)


handle("sync")
asyncio.run(dry_run("async, dropped"))
Service().run("method")
assert ran == ["sync", "method"]
