"""``python -m components.encom STRUCTURE... --out FILE``: see :mod:`components.encom.cli`."""

import sys

from components.encom.cli import main

sys.exit(main())
