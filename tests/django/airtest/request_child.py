"""An application process that serves one request through Django's test client.

    python -m airtest.request_child PATH

Settings: airtest.request_settings. The view (airtest.views.checkout_then_die)
kills this process; exiting on its own is a failure the test reports.
"""

from __future__ import annotations

import sys


def main() -> None:
    import django

    django.setup()
    from django.test import Client

    response = Client(raise_request_exception=False).get(sys.argv[1])
    raise SystemExit(f"the request ended with {response.status_code}; the process did not die")


if __name__ == "__main__":
    main()
