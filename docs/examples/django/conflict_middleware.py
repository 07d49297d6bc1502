"""Deciding per response whether a request's effects escape."""

# --8<-- [start:middleware]
from airlock.integrations.django import AirlockMiddleware


class FlushOnConflictMiddleware(AirlockMiddleware):
    """409 means "already done": the effects of the first attempt still apply."""

    def should_flush(self, request, response):
        if response.status_code == 409:
            return True
        return super().should_flush(request, response)


# --8<-- [end:middleware]
