"""A small shop, and the side-effect problems airlock solves, one section each.

Run it:  python examples/checkout/checkout.py   (or: nox -s demo)

Everything runs in this process with the default `sync` executor: no broker,
no database. Each section states what it expects to run and what it expects
airlock to hold back; the script exits 1 if anything turns out differently,
so it doubles as a smoke test (`main()` returns the exit code).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

import airlock

# ---------------------------------------------------------------------------
# The tasks. Real ones would email, call a warehouse API, hit a search index;
# these write a line to RAN, so the demo can show exactly what escaped.
# ---------------------------------------------------------------------------

RAN: list[str] = []


def call(name: str, args: Iterable[object]) -> str:
    """How the report spells a task call: send_confirmation_email(1)."""
    return f"{name}({', '.join(repr(a) for a in args)})"


def notify_warehouse(order_id: int) -> None:
    RAN.append(call("notify_warehouse", [order_id]))


def send_confirmation_email(order_id: int) -> None:
    RAN.append(call("send_confirmation_email", [order_id]))


def update_tracking_system(order_id: int) -> None:
    RAN.append(call("update_tracking_system", [order_id]))


def send_update_email(order_id: int) -> None:
    RAN.append(call("send_update_email", [order_id]))


def record_analytics(event: str) -> None:
    RAN.append(call("record_analytics", [event]))


def refresh_search_index(catalog: str) -> None:
    RAN.append(call("refresh_search_index", [catalog]))


# ---------------------------------------------------------------------------
# The domain: models that express their side effects where they belong.
# ---------------------------------------------------------------------------


class Order:
    def __init__(self, order_id: int) -> None:
        self.id = order_id
        self.status = "new"

    def process(self) -> None:
        self.status = "processed"
        airlock.enqueue(notify_warehouse, self.id)
        airlock.enqueue(send_confirmation_email, self.id)

    def update_status(self, status: str) -> None:
        self.status = status
        airlock.enqueue(notify_warehouse, self.id)
        if status == "paid":
            airlock.enqueue(send_confirmation_email, self.id)
        elif status == "shipped":
            airlock.enqueue(update_tracking_system, self.id)
            airlock.enqueue(send_update_email, self.id)


class PaymentDeclinedError(Exception):
    pass


def charge_card(order: Order, *, approved: bool) -> None:
    if not approved:
        raise PaymentDeclinedError(f"card declined for order {order.id}")


USERS: dict[int, User] = {}


class User:
    def __init__(self, user_id: int) -> None:
        self.id = user_id
        self.age: int | None = None
        self.income: int | None = None

    def save(self) -> None:
        USERS[self.id] = self
        airlock.enqueue(enrich_from_api, self.id)  # every save wants fresh profile data


# The task runs in its own scope, which refuses to re-enqueue the task itself.
@airlock.scoped(policy=airlock.BlockTasks({"enrich_from_api"}))
def enrich_from_api(user_id: int) -> None:
    RAN.append(call("enrich_from_api", [user_id]))
    user = USERS[user_id]
    user.age, user.income = 41, 52_000  # what the profile API answered
    user.save()  # enqueues enrich_from_api(user_id) again: held back, no loop


class Book:
    def __init__(self, book_id: int) -> None:
        self.id = book_id

    def save(self) -> None:
        airlock.enqueue(refresh_search_index, "books")


# ---------------------------------------------------------------------------
# Bookkeeping for the report: what airlock held back, seen through its hooks.
# ---------------------------------------------------------------------------


class HeldBack:
    """An airlock plugin that notes every intent a policy dropped or a scope discarded."""

    def __init__(self) -> None:
        self.intents: list[str] = []

    @airlock.hookimpl
    def airlock_intent_dropped(self, intent: airlock.Intent, policy: object) -> None:
        self.intents.append(f"{call(intent.name, intent.args)} [{type(policy).__name__}]")

    @airlock.hookimpl
    def airlock_scope_discarded(self, intents: Sequence[airlock.Intent]) -> None:
        self.intents.extend(f"{call(i.name, i.args)} [discarded]" for i in intents)


HELD = HeldBack()


class Section:
    """One titled story: its own checks, then what ran and what was held back."""

    def __init__(self, title: str, *, ran: list[str], held: list[str]) -> None:
        self.title = title
        self.expected_ran = ran
        self.expected_held = held
        self.problems: list[str] = []
        self.notes: list[str] = []

    def check(self, claim: str, holds: bool) -> None:
        """Note a claim made along the way; a false claim fails the section."""
        self.notes.append(claim)
        if not holds:
            self.problems.append(f"expected: {claim}")


Story = Callable[[Section], None]
SECTIONS: list[tuple[str, list[str], list[str], Story]] = []


def section(title: str, *, ran: list[str], held: list[str]) -> Callable[[Story], Story]:
    """Add the decorated story to the demo, with the outcome it promises."""

    def register(story: Story) -> Story:
        SECTIONS.append((title, ran, held, story))
        return story

    return register


# ---------------------------------------------------------------------------
# The stories.
# ---------------------------------------------------------------------------


@section(
    "Effects wait for the edge of the scope",
    ran=["notify_warehouse(1)", "send_confirmation_email(1)"],
    held=[],
)
def effects_are_buffered(s: Section) -> None:
    with airlock.scope() as checkout:
        Order(1).process()
        s.check("inside the block nothing has run yet", RAN == [])
        s.check("the scope holds 2 intents", len(checkout.intents) == 2)
    # The block ended cleanly: the scope flushed, in order.


@section(
    "An error discards them",
    ran=[],
    held=["notify_warehouse(2) [discarded]", "send_confirmation_email(2) [discarded]"],
)
def errors_discard(s: Section) -> None:
    order = Order(2)
    try:
        with airlock.scope() as checkout:
            order.process()
            charge_card(order, approved=False)  # raises
    except PaymentDeclinedError:
        pass
    s.check("the customer got no confirmation for a declined order", checkout.is_discarded)


@section(
    "A migration dry-runs the domain code with DropAll",
    ran=[],
    held=[
        "notify_warehouse(3) [DropAll]",
        "send_confirmation_email(3) [DropAll]",
        "notify_warehouse(4) [DropAll]",
        "send_confirmation_email(4) [DropAll]",
    ],
)
def migration_dry_run(s: Section) -> None:
    legacy = [Order(3), Order(4)]
    with airlock.scope(policy=airlock.DropAll()):
        for order in legacy:
            order.process()  # the same method production uses, effects and all
    s.check("the migration still updated every order", all(o.status == "processed" for o in legacy))


@section(
    "A test inspects scope.intents: no mocks, no broker, no eager mode",
    ran=[],
    held=["notify_warehouse(5) [DropAll]", "send_confirmation_email(5) [DropAll]"],
)
def testing_with_the_buffer(s: Section) -> None:
    # What test_process_notifies_the_warehouse() would contain:
    with airlock.scope(policy=airlock.DropAll()) as scope:
        Order(5).process()
        seen = [(intent.name, intent.args) for intent in scope.intents]
    s.check(
        "the buffer lists notify_warehouse(5), then send_confirmation_email(5)",
        seen == [("notify_warehouse", (5,)), ("send_confirmation_email", (5,))],
    )


@section(
    "An admin path blocks one task with BlockTasks",
    ran=["notify_warehouse(6)", "update_tracking_system(6)"],
    held=["send_update_email(6) [BlockTasks]"],
)
def admin_correction(s: Section) -> None:
    # Support corrects a status by hand; the customer must not get another email.
    with airlock.scope(policy=airlock.BlockTasks({"send_update_email"})):
        Order(6).update_status("shipped")
    s.check("everything but the email went out", "send_update_email(6)" not in RAN)


@section(
    "Nested scopes: the outer scope has the last word",
    ran=["notify_warehouse(7)", "send_confirmation_email(7)", "record_analytics('checkout')"],
    held=[],
)
def nested_scopes(s: Section) -> None:
    @airlock.scoped()  # a service function that brings its own scope
    def place_order(order: Order) -> None:
        order.process()

    with airlock.scope() as request:
        place_order(Order(7))
        s.check("the inner scope ended, yet nothing ran", RAN == [])
        airlock.enqueue(record_analytics, "checkout")
        s.check("the outer scope captured the inner 2", len(request.captured_intents) == 2)
        s.check("and holds 1 of its own", len(request.own_intents) == 1)


@section(
    "Re-entrancy: the enrich task saves the user, and does not re-enqueue itself",
    ran=["enrich_from_api(42)"],
    held=["enrich_from_api(42) [BlockTasks]"],
)
def re_entrancy(s: Section) -> None:
    with airlock.scope():
        User(42).save()  # signup
    s.check("the profile was enriched", USERS[42].income == 52_000)


@section(
    "A bulk loop saves 10,000 books; Dedupe lets one reindex out",
    ran=["refresh_search_index('books')"],
    held=["refresh_search_index('books') [Dedupe]"] * 9_999,
)
def bulk_dedupe(s: Section) -> None:
    with airlock.scope(policy=airlock.Dedupe()) as scope:
        for book_id in range(10_000):
            Book(book_id).save()
        s.check("10,000 intents were buffered", len(scope.intents) == 10_000)


# ---------------------------------------------------------------------------
# Running and reporting.
# ---------------------------------------------------------------------------


def summarize(calls: list[str]) -> str:
    """One line per distinct call, repeats counted: "refresh_search_index('books') x9,999"."""
    if not calls:
        return "-"
    counts = Counter(calls)
    return "\n              ".join(c if n == 1 else f"{c} x{n:,}" for c, n in counts.items())


def run(s: Section, story: Story) -> bool:
    RAN.clear()
    HELD.intents.clear()
    try:
        story(s)
    except Exception as exc:
        s.problems.append(f"raised {type(exc).__name__}: {exc}")
    if s.expected_ran != RAN:
        s.problems.append(f"expected to run: {summarize(s.expected_ran)}")
    if HELD.intents != s.expected_held:
        s.problems.append(f"expected to hold back: {summarize(s.expected_held)}")
    return not s.problems


def main() -> int:
    """Run every section, print the report; 0 if each went as it said, else 1."""
    airlock.plugins.register(HELD, name="checkout-demo")
    try:
        failures = 0
        for number, (title, ran, held, story) in enumerate(SECTIONS, 1):
            s = Section(title, ran=ran, held=held)
            ok = run(s, story)
            failures += not ok
            print(f"{number}. {s.title}")
            for note in s.notes:
                print(f"   - {note}")
            print(f"   ran:       {summarize(RAN)}")
            print(f"   held back: {summarize(HELD.intents)}")
            for problem in s.problems:
                print(f"   !! {problem}")
            print(f"   {'ok' if ok else 'FAILED'}\n")
    finally:
        airlock.plugins.unregister("checkout-demo")
    if failures:
        print(f"{failures} of {len(SECTIONS)} sections did not go as expected.")
        return 1
    print(f"All {len(SECTIONS)} sections went as expected.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
