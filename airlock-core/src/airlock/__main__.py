"""``python -m airlock`` runs the ``airlock`` command."""

import sys

from airlock.cli import main

sys.exit(main())
