"""``python -m percept``: the same as the ``percept`` command."""

import sys

from .cli import main

sys.exit(main())
