"""Seeded, deterministic synthetic source data for the demo, the tests and the benchmark.

`generate()` fills the application's two source tables, ``"DashboardFact"`` and
``"DecisionLog"``, with a realistic history that ends the day before ``as_of``
(all times UTC). The same seed, scale and date give byte-identical rows (in the
same order, hence the same serial ids in fresh tables): only ``random.Random(seed)``
is used, never the global generator.

What the data holds (see the metrics contract for why each piece matters):

* shops ``shop-0001.myshopify.com`` ... with their own activity pattern (daily,
  regular, occasional, rare), some onboarded late, some churned;
  ``dashboard.session.opened`` facts on their active days, plus a few sessions
  with a blank or ``__aggregate__`` shop domain that the metrics must ignore;
* ``DecisionLog`` rows: ``ops`` decisions by operators for the ~40% of shops
  that work with ops, decisions of other scopes (``growth``, ``billing``, and
  ``support``, which closes the escalations of the shops ops does not work
  with) that must not count, a few ``ops`` decisions without or with a
  differently cased shop domain;
* Chatwoot conversations (globally unique ids, some shops' ids above 2**31)
  that breach their SLA, resolving ``ops`` decisions ``externalRef =
  'chatwoot:<id>'`` minutes to days later (lognormal), some never resolved, some
  with an extra decision *before* the breach, some follow-ups after the
  resolution, some ``externalRef`` spellings that are not resolutions;
* ``chatwoot.escalations`` snapshots four times a day per shop with open
  breached conversations, repeating every open conversation until it closes:
  the legacy format (no ``metadata.breaches``) in the oldest quarter of the
  history, the modern one after it, with the timestamp and id spellings seen in
  production and ~0.5% corrupt elements;
* ~30% of all ``DashboardFact`` rows of unrelated fact types with bulky JSON.

Rows are written as pre-escaped COPY text, in ``createdAt`` order (as an
application would insert them), streamed day by day.
"""

from __future__ import annotations

from .generate import create_source_tables, generate, source_ddl
from .scales import SCALES, Scale

__all__ = ["SCALES", "Scale", "create_source_tables", "generate", "source_ddl"]
