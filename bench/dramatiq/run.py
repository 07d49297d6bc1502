"""airlock's dramatiq flush versus an ``actor.send`` loop, on Redis and on RabbitMQ.

Publishing only (no worker): N messages to one actor, side by side in one run:
straight to the broker on loopback, then through a loopback proxy that adds
--rtt-ms of round-trip time (a network's worth; 0 skips it; the proxy is
bench/rq/latency.py). For each broker: one warm-up round, then --rounds rounds
in which the two ways alternate (the order rotates every round); the table
shows medians. On Redis the bench checks that both ways store the same first
message, ids and timestamps aside.

airlock runs with ``AIRLOCK_DISABLE_PLUGIN_AUTOLOAD=1`` and the dramatiq plugin
registered by hand: airlock-core and airlock-dramatiq only (another installed
plugin's per-intent hook, such as the example plugin's, is not what this
measures).

Redis database 3 (AIRLOCK_TEST_REDIS_URL or 127.0.0.1:6379) and RabbitMQ
(AIRLOCK_TEST_AMQP_URL or 127.0.0.1:5672). Table on stdout, JSON in
bench/results/dramatiq.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

os.environ["AIRLOCK_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # before airlock loads its plugins

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker

import airlock
import airlock_dramatiq.plugin

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "rq"))
from latency import LatencyProxy

QUEUE = "dramatiq_bench"
RESULTS = Path(__file__).resolve().parent.parent / "results" / "dramatiq.json"


def redis_url() -> str:
    base = os.environ.get("AIRLOCK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    return urlunsplit(urlsplit(base)._replace(path="/3"))


def amqp_url() -> str:
    parts = urlsplit(os.environ.get("AIRLOCK_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"))
    if parts.path == "//":  # kombu's spelling of the vhost "/"; pika wants %2F
        parts = parts._replace(path="/%2F")
    return urlunsplit(parts)


def declare(broker: dramatiq.Broker) -> Any:
    @dramatiq.actor(broker=broker, queue_name=QUEUE, actor_name="bench_noop")
    def noop(i: int) -> None:
        """Never runs: the benchmark measures publishing."""

    return noop


def send_loop(actor: Any, n: int) -> None:
    for i in range(n):
        actor.send(i)


def airlock_flush(actor: Any, n: int) -> None:
    with airlock.scope(executor="dramatiq"):
        for i in range(n):
            airlock.enqueue(actor, i)


def queued(broker: Any) -> int:
    if isinstance(broker, RedisBroker):
        return int(broker.do_qsize(QUEUE))
    return int(broker.get_queue_message_counts(QUEUE)[0])


def first_message(broker: Any) -> dict[str, Any] | None:
    """The first message queued on Redis, without its ids and timestamp (None elsewhere)."""
    if not isinstance(broker, RedisBroker):
        return None
    [redis_id] = broker.client.lrange(f"{broker.namespace}:{QUEUE}", 0, 0)
    raw = broker.client.hget(f"{broker.namespace}:{QUEUE}.msgs", redis_id)
    message = dramatiq.Message.decode(raw).asdict()
    message["options"] = {k: v for k, v in message["options"].items() if k != "redis_message_id"}
    del message["message_id"], message["message_timestamp"]
    return message


def run_once(fn: Callable[[Any, int], None], actor: Any, n: int) -> float:
    actor.broker.flush(QUEUE)
    gc.collect()
    start = time.perf_counter()
    fn(actor, n)
    elapsed = time.perf_counter() - start
    if isinstance(actor.broker, RedisBroker):  # RabbitMQ counts settle asynchronously
        assert queued(actor.broker) == n, f"{fn.__name__} sent {queued(actor.broker)} of {n}"
    return elapsed


WAYS: dict[str, Callable[[Any, int], None]] = {
    "send_loop": send_loop,
    "airlock_flush": airlock_flush,
}


def compare(actor: Any, n: int, rounds: int) -> dict[str, float]:
    """Both ways on ``actor``'s broker: a warm-up, then alternating rounds; medians."""
    names = list(WAYS)
    stored = []
    for name in names:  # warm-up round; check both store the same message
        run_once(WAYS[name], actor, n)
        stored.append(first_message(actor.broker))
    assert stored[0] == stored[1], f"the ways send different messages: {stored}"
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(run_once(WAYS[name], actor, n))
    actor.broker.flush(QUEUE)
    return {name: statistics.median(values) for name, values in samples.items()}


def make_brokers(rtt_ms: float) -> tuple[dict[str, Any], list[LatencyProxy]]:
    """Each broker straight on loopback, and behind a latency proxy when ``rtt_ms``."""
    redis_parts, amqp_parts = urlsplit(redis_url()), urlsplit(amqp_url())
    brokers: dict[str, Any] = {
        "redis": RedisBroker(url=redis_url(), namespace="dramatiq_bench"),
        "rabbitmq": RabbitmqBroker(url=amqp_url()),
    }
    proxies = []
    if rtt_ms > 0:
        label = f" +{rtt_ms:g} ms RTT"
        redis_proxy = LatencyProxy((redis_parts.hostname or "", redis_parts.port or 6379), rtt_ms)
        amqp_proxy = LatencyProxy((amqp_parts.hostname or "", amqp_parts.port or 5672), rtt_ms)
        proxies = [redis_proxy, amqp_proxy]
        brokers["redis" + label] = RedisBroker(
            host="127.0.0.1", port=redis_proxy.port, db=3, namespace="dramatiq_bench"
        )
        proxied_amqp = urlunsplit(
            amqp_parts._replace(netloc=f"guest:guest@127.0.0.1:{amqp_proxy.port}")
        )
        brokers["rabbitmq" + label] = RabbitmqBroker(url=proxied_amqp)
    return brokers, proxies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=10_000, help="messages per run (default 10000)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (median)")
    parser.add_argument("--rtt-ms", type=float, default=0.5, help="proxy round trip (0: skip)")
    args, _ = parser.parse_known_args()
    airlock.plugins.register(airlock_dramatiq.plugin, name="dramatiq")
    brokers, proxies = make_brokers(args.rtt_ms)
    report: dict[str, Any] = {
        "n": args.n,
        "rounds": args.rounds,
        "dramatiq": dramatiq.__version__,
        "python": platform.python_version(),
        "brokers": {},
    }
    print(
        f"\ndramatiq: N={args.n}, median of {args.rounds} alternating rounds,"
        f" dramatiq {dramatiq.__version__}"
    )
    print(f"{'broker':<22} {'actor.send loop':>16} {'airlock flush':>14} {'speedup':>8}")
    try:
        for name, broker in brokers.items():
            actor = declare(broker)
            timings = compare(actor, args.n, args.rounds)
            loop, flush = timings["send_loop"], timings["airlock_flush"]
            speedup = loop / flush
            report["brokers"][name] = {
                "send_loop": loop,
                "airlock_flush": flush,
                "speedup": speedup,
            }
            print(f"{name:<22} {loop:>15.3f}s {flush:>13.3f}s {speedup:>7.1f}x")
            broker.close()
    finally:
        for proxy in proxies:
            proxy.close()
    print("target: >= 5x the send loop on Redis; RabbitMQ is reported only")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
