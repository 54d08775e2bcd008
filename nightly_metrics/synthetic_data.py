"""Seeded, deterministic synthetic source data: the public API of `nightly_metrics.synthetic`.

Kept so that ``from nightly_metrics.synthetic_data import ...`` goes on working;
the generator itself lives in the `nightly_metrics.synthetic` package.
"""

from __future__ import annotations

from .synthetic import SCALES, Scale, create_source_tables, generate, source_ddl

__all__ = ["SCALES", "Scale", "create_source_tables", "generate", "source_ddl"]
