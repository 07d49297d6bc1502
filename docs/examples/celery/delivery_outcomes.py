from airlock_celery import DeliveryUncertain


def sort_failures(error):
    """Split a flush's DispatchError: what to send again, and what may be on the broker already."""
    resend, maybe_sent = [], []
    for intent, cause in error.failed:
        (maybe_sent if isinstance(cause, DeliveryUncertain) else resend).append(intent)
    return resend + error.pending, maybe_sent
