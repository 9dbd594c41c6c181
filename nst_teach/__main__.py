"""``python -m nst_teach``: see nst_teach.cli."""

import sys

from .cli import main

sys.exit(main())
