"""Serving hardening, re-exported from :mod:`components.common.serving` (where the served models'
pyfunc wrappers import it from, so that serving imports neither Prefect nor ``flows``)."""

from components.common.serving import *  # noqa: F403
from components.common.serving import __all__  # noqa: F401
