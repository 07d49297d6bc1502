"""Dramatiq app on the Redis broker (database 3): ``dramatiq dq_app_redis``."""

import os

import dramatiq
from dq_actors import install
from dramatiq.brokers.redis import RedisBroker

broker = RedisBroker(url=os.environ["DQ_REDIS_URL"], namespace="dramatiq_airlock")
dramatiq.set_broker(broker)
globals().update(install(broker, "redis"))
