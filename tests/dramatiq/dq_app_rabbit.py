"""Dramatiq app on the RabbitMQ broker: ``dramatiq dq_app_rabbit``."""

import os

import dramatiq
from dq_actors import install
from dramatiq.brokers.rabbitmq import RabbitmqBroker

broker = RabbitmqBroker(url=os.environ["DQ_AMQP_URL"])
dramatiq.set_broker(broker)
globals().update(install(broker, "rabbit"))
