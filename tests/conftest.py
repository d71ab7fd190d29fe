"""Shared test configuration: a headless matplotlib backend and the hypothesis profiles.

``ci`` is deterministic (derandomized, no deadline: shared CI runners stall); ``dev``
explores fresh examples on every run. ``CI`` in the environment selects ``ci``;
``HYPOTHESIS_PROFILE`` overrides either.
"""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

from hypothesis import HealthCheck, settings  # after the backend is set

settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "dev",
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))
