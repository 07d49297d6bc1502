from global_intercept import notify_warehouse

import airlock


def inside_scope():
    with airlock.scope():
        notify_warehouse.delay(1)  # DeprecationWarning; buffered with its options
        notify_warehouse.apply_async((2,), countdown=10)  # buffered too
    # both published here, once each


def outside_scope():
    notify_warehouse.delay(3)  # DeprecationWarning; published at once, as before
