"""``python -m components.dynasig_ml``: see :mod:`components.dynasig_ml.cli`."""

import sys

from components.dynasig_ml.cli import main

sys.exit(main())
