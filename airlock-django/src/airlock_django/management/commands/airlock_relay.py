"""``manage.py airlock_relay``: publish the outbox rows the fast path did not deliver."""

from __future__ import annotations

import json
import re
import signal
import socket
import threading
import time
from datetime import timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections

from airlock_django.conf import outbox_settings
from airlock_django.relay import Heartbeat, Relay, Tally
from airlock_django.store import describe
from airlock_django.wakeup import CHANNEL, can_notify

_AGE = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
#: How often ``--loop --prune`` prunes again.
PRUNE_EVERY = 3600.0
#: How long the heartbeat of a ``--once`` pass counts as a running relay, in seconds.
ONCE_FRESH = 3600.0
#: The exit status of a pass that set rows aside (dead or rejected), and of ``--stats``
#: finding any: they need a person, and a cron job or a Kubernetes Job can say so.
SET_ASIDE = 3


def parse_age(value: str) -> timedelta:
    """``"90"``, ``"90s"``, ``"15m"``, ``"12h"`` or ``"7d"`` as a ``timedelta``."""
    found = _AGE.match(value.strip())
    if found is None:
        raise CommandError(f"--prune takes an age such as 7d, 12h, 30m or 3600, got {value!r}.")
    return timedelta(seconds=float(found.group(1)) * _UNITS[found.group(2)])


class Command(BaseCommand):
    """Relay pending outbox rows: once (``--once``) or continuously (the default, ``--loop``)."""

    help = (
        "Publish airlock outbox rows that were not delivered right after their commit"
        " (process crash, broker down). Safe to run as several processes on PostgreSQL."
        f" Exit status: 0 when every row it claimed was delivered or waits for a retry;"
        f" {SET_ASIDE} when --once set rows aside (dead: a permanent failure or the last"
        f" attempt; rejected: a row it cannot read or may not run), or when --stats finds"
        f" dead or rejected rows; 1 when it could not run (a bad option, the database"
        f" unreachable with --once); 2 for a command line it does not understand. --loop"
        f" exits 0 when stopped by SIGTERM or Ctrl-C."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """The command's options; each help line ends with the default."""
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--once",
            action="store_true",
            help="Relay every row due now, then exit (default: %(default)s).",
        )
        mode.add_argument(
            "--loop",
            action="store_true",
            help="Relay continuously until SIGTERM or Ctrl-C; what runs when neither --once"
            " nor --stats is given (default: %(default)s).",
        )
        mode.add_argument(
            "--stats",
            action="store_true",
            help="Print rows per status as JSON and exit (default: %(default)s).",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Seconds between passes with --loop; on PostgreSQL a commit wakes the relay"
            " sooner, and this is the poll that catches a lost wake-up (default: %(default)s).",
        )
        parser.add_argument(
            "--no-listen",
            action="store_true",
            help="With --loop on PostgreSQL, poll every --interval only, without LISTEN"
            " (default: %(default)s).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=100,
            help="Rows per transaction (default: %(default)s).",
        )
        parser.add_argument(
            "--database",
            default="default",
            help="Database alias of the outbox (default: %(default)s).",
        )
        parser.add_argument(
            "--max-attempts",
            type=int,
            help='Attempts before a row is dead (default: AIRLOCK["OUTBOX"]["MAX_ATTEMPTS"],'
            " 10 when unset).",
        )
        parser.add_argument(
            "--prune",
            metavar="AGE",
            help="Delete rows delivered longer ago than AGE (7d, 12h, 30m, seconds) first"
            " (default: %(default)s, prune nothing).",
        )
        parser.add_argument(
            "--retry-dead",
            action="store_true",
            help="Make dead and rejected rows pending again before relaying"
            " (default: %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the relay as the options say."""
        if options["batch_size"] < 1:
            raise CommandError(f"--batch-size must be at least 1, got {options['batch_size']}.")
        if options["interval"] < 0:
            raise CommandError(f"--interval must not be negative, got {options['interval']}.")
        prune_age = parse_age(options["prune"]) if options["prune"] else None
        settings = outbox_settings()
        if options["max_attempts"] is not None:
            if options["max_attempts"] < 1:
                raise CommandError("--max-attempts must be at least 1.")
            settings.max_attempts = options["max_attempts"]
        relay = Relay(
            using=options["database"], batch_size=options["batch_size"], settings=settings
        )
        try:
            self._run(relay, prune_age, options)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        except DatabaseError as exc:
            raise CommandError(
                f"the outbox's database {relay.using!r} cannot be used: "
                + " ".join(describe(exc).split())
            ) from exc

    def _run(self, relay: Relay, prune_age: timedelta | None, options: dict[str, Any]) -> None:
        if options["stats"]:
            stats = relay.stats()
            self.stdout.write(json.dumps(stats))
            if stats["dead"] or stats["rejected"]:
                raise CommandError(
                    f"{stats['dead']} dead and {stats['rejected']} rejected row(s) in the"
                    f" outbox; each has its reason in last_error.",
                    returncode=SET_ASIDE,
                )
            return
        verbosity: int = options["verbosity"]
        if options["retry_dead"]:
            self._say(verbosity, f"{relay.retry_dead()} dead or rejected row(s) made pending again")
        if prune_age is not None:
            self._prune(relay, prune_age, verbosity)
        batches = 0

        def progress(tally: Tally) -> None:
            nonlocal batches
            batches += 1
            if verbosity >= 1:
                self.stdout.write(f"batch {batches}: {tally.describe()}")
            if verbosity >= 2:
                for error in tally.errors:
                    self.stderr.write(f"  {error}")

        if options["once"]:
            # a pass from cron counts as a relay for an hour (airlock.W004)
            Heartbeat(
                relay.using, stale_after=ONCE_FRESH, name=f"once:{socket.gethostname()}"
            ).beat()
            total = relay.drain(progress)
        else:
            total = self._loop(
                relay,
                options["interval"],
                prune_age,
                progress,
                verbosity,
                listen=not options["no_listen"],
            )
        self._summary(relay, total, verbosity)
        if options["once"] and (total.dead or total.rejected):
            raise CommandError(
                f"this pass set {total.dead + total.rejected} row(s) aside ({total.dead} dead,"
                f" {total.rejected} rejected); each has its reason in last_error. Fix the"
                f" cause, then run with --retry-dead.",
                returncode=SET_ASIDE,
            )

    def _loop(
        self,
        relay: Relay,
        interval: float,
        prune_age: timedelta | None,
        progress: Any,
        verbosity: int,
        *,
        listen: bool,
    ) -> Tally:
        stop = threading.Event()
        previous = {
            sig: signal.signal(sig, lambda *_: stop.set())
            for sig in (signal.SIGTERM, signal.SIGINT)
        }
        next_prune = time.monotonic() + PRUNE_EVERY

        def between_passes() -> None:
            nonlocal next_prune
            if prune_age is not None and time.monotonic() >= next_prune:
                self._prune(relay, prune_age, verbosity)
                next_prune = time.monotonic() + PRUNE_EVERY

        vendor = connections[relay.using].vendor
        if not listen:
            how = f"polling every {interval:g}s (--no-listen)"
        elif can_notify(relay.using):
            how = f"woken by each commit (LISTEN {CHANNEL}), polling every {interval:g}s"
        else:
            how = (
                f"polling every {interval:g}s: database {relay.using!r} ({vendor}) has no"
                f" LISTEN/NOTIFY, so commits cannot wake the relay"
            )
        self._say(verbosity, f"relaying, {how}; stop with Ctrl-C or SIGTERM")
        try:
            return relay.loop(
                interval=interval,
                stop=stop,
                on_batch=progress,
                between_passes=between_passes,
                listen=listen,
            )
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _prune(self, relay: Relay, age: timedelta, verbosity: int) -> None:
        self._say(verbosity, f"pruned {relay.prune(age)} row(s) delivered more than {age} ago")

    def _summary(self, relay: Relay, total: Tally, verbosity: int) -> None:
        if verbosity < 1:
            return
        stats = relay.stats()
        self.stdout.write(
            f"relayed {total.batches} batch(es): {total.describe()}; now"
            f" {stats['pending']} pending, {stats['dead']} dead, {stats['rejected']} rejected"
        )

    def _say(self, verbosity: int, message: str) -> None:
        if verbosity >= 1:
            self.stdout.write(message)
