"""Property-style check: a seeded random history of a few thousand source rows, run through
the job, must give exactly the figures of the independent ``contract_oracle`` for every
as-of date.

The history (all times UTC, millisecond precision, integer epoch seconds and slaMinutes so
that no float edge case is involved) spans the 45 days before the last as-of date and a bit
after it:

* sessions of 50 shops with different activity levels, plus blank and ``__aggregate__`` ones;
* ``ops`` decisions naming shops, decisions of other scopes, ``ops`` decisions without a shop
  or with a differently cased one;
* Chatwoot conversations (small ids, ids above 2**31 and 2**63, 24-digit ids) that breach
  their SLA and stay open for hours to days: every snapshot while open repeats them, in the
  legacy format before a cut-over date and in the current one after it (with the timestamp
  and id spellings the contract allows), sometimes re-stamped later;
* resolving decisions at the breach's very instant (ties) or minutes to weeks after it (some
  only inside a later window, for breaches recorded in the look-back only), decisions before
  the breach, follow-ups, and external references or scopes that are not resolutions;
* a few malformed elements, and a few snapshots whose ``metadata.breaches`` is not an array
  (the project counts each such fact once as rejected; the oracle ignores them, so the
  expected count adds them explicitly).

Every payload time is spelled with 0 to 9 fraction digits (beyond 6, some rounding up on the
7th) and an offset from -12:00 to +14:00, ``Z`` or none, and denotes exactly the generated
instant. Besides the figures, each staged ``metadata.breaches`` time must equal the oracle's
reading of its spelling: the figures take the earliest time per conversation, which can hide
one misread spelling.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import contract_oracle
from contract_oracle import ACTIVATION_FACT_TYPE, SLA_FACT_TYPE, Decision, Fact, expected_facts
from psycopg.types.json import Jsonb

SEED = 20261128
FIRST_AS_OF = date(2026, 11, 14)
LAST_AS_OF = date(2026, 11, 28)
DATA_START = datetime(2026, 10, 14)  # 45 days before LAST_AS_OF
DATA_END = datetime(2026, 11, 29, 12)  # a little past the last window: must be ignored
LEGACY_CUTOVER = datetime(2026, 10, 30)  # snapshots before this are in the legacy format
ESCALATIONS = contract_oracle.ESCALATION_FACT_TYPE
SESSIONS = contract_oracle.SESSION_FACT_TYPE
EPOCH = datetime(1970, 1, 1)
MS = timedelta(milliseconds=1)
US = timedelta(microseconds=1)
# Offsets of real zones and the contract's extremes; other spellings draw any minute.
NAMED_OFFSETS = ["+02:00", "-05:30", "+05:45", "-03:30", "+12:45", "-12:00", "+14:00", "+00:00"]


def random_time(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A uniformly random instant in [start, end), to the millisecond."""
    return start + MS * rng.randrange((end - start) // MS)


def random_offset(rng: random.Random) -> str:
    """``Z``, ``z``, none, or ``±HH:MM`` from -12:00 to +14:00 (any minute)."""
    how = rng.random()
    if how < 0.3:
        return rng.choice(["Z", "Z", "z", ""])
    if how < 0.55:
        return rng.choice(NAMED_OFFSETS)
    minutes = rng.randint(-12 * 60, 14 * 60)
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def iso(rng: random.Random, ts: datetime) -> str:
    """``ts`` (naive UTC) spelled in a random allowed way that denotes exactly it: offset
    Z/z/±HH:MM/none, and 0 to 9 fraction digits (as few as ``ts`` needs, or more). From
    7 digits on, half the spellings end in a tail that rounds up on the 7th digit to
    ``ts``: ``10:00:00.1229995`` is 10:00:00.123, ``09:59:59.9999995`` is 10:00."""
    offset = random_offset(rng)
    minutes = 0
    if offset not in ("Z", "z", ""):
        minutes = int(offset[1:3]) * 60 + int(offset[4:6])
        minutes = minutes if offset[0] == "+" else -minutes
    local = ts + timedelta(minutes=minutes)
    digits = rng.randint(len(f"{local.microsecond:06d}".rstrip("0")), 9)
    tail = "".join(rng.choice("0123456789") for _ in range(digits - 7))
    if digits >= 7 and rng.random() < 0.5:
        local -= US
        fraction = f"{local.microsecond:06d}{rng.randint(5, 9)}{tail}"
    elif digits >= 7:
        fraction = f"{local.microsecond:06d}{rng.randint(0, 4)}{tail}"
    else:
        fraction = f"{local.microsecond:06d}"[:digits]
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{fraction}" if fraction else "") + offset


def epoch_seconds(ts: datetime) -> int:
    return (ts - EPOCH) // timedelta(seconds=1)


class History:
    """The generated rows, as insert tuples and as oracle inputs."""

    def __init__(self) -> None:
        self.fact_rows: list[tuple] = []
        self.decision_rows: list[tuple] = []
        self.facts: list[Fact] = []
        self.decisions: list[Decision] = []

    def fact(self, shop: str, fact_type: str, created_at: datetime, value, metadata=None):
        self.fact_rows.append(
            (
                shop,
                fact_type,
                Jsonb(value),
                None if metadata is None else Jsonb(metadata),
                created_at,
                created_at,
            )
        )
        self.facts.append(Fact(shop, fact_type, value, metadata, created_at))

    def decision(
        self, created_at: datetime, scope="ops", shop: str | None = None, ref: str | None = None
    ):
        self.decision_rows.append((scope, "ops:property", "test", shop, ref, created_at))
        self.decisions.append(Decision(scope, shop, ref, created_at))


def unique_conversation_ids(rng: random.Random, count: int) -> list[int | str]:
    """Ids of every size; some as 24-digit strings (the current format allows digit strings
    for them only, so those conversations are never written in the legacy format)."""
    ids: set = set()
    result: list[int | str] = []
    while len(result) < count:
        kind = rng.random()
        if kind < 0.55:
            cid: int | str = rng.randrange(1, 200_000)
        elif kind < 0.75:
            cid = 2**31 + rng.randrange(1_000_000)
        elif kind < 0.9:
            cid = 2**63 + rng.randrange(1_000_000)
        else:
            cid = str(10**23 + rng.randrange(10**12))
        if str(cid) not in ids:
            ids.add(str(cid))
            result.append(cid)
    return result


MALFORMED_BREACHES = [
    None,
    "conversation 12 breached",
    ["12", "2026-11-20T10:00:00Z"],
    {"conversationId": -5, "breachedAt": "2026-11-20T10:00:00Z"},
    {"conversationId": 12.5, "breachedAt": "2026-11-20T10:00:00Z"},
    {"conversationId": "12a", "breachedAt": "2026-11-20T10:00:00Z"},
    {"conversationId": 12},
    {"conversationId": 12, "breachedAt": "2026-02-30T10:00:00Z"},
    {"conversationId": 12, "breachedAt": "not-a-date"},
    {"conversationId": 12, "breachedAt": '\'; drop table "DashboardFact"; --'},
    {"conversationId": '\'; drop table "DashboardFact"; --', "breachedAt": "2026-11-20T10:00Z"},
]
MALFORMED_LEGACY = [
    {"id": 12, "slaBreached": True},  # no start
    {"id": 12, "slaBreached": True, "createdAt": "not-a-date"},
    {"id": "12", "slaBreached": True, "createdAt": "2026-11-20T10:00:00.000Z"},
    {"id": -12, "slaBreached": True, "createdAt": "2026-11-20T10:00:00.000Z"},
    {"id": 12, "slaBreached": True, "createdAt": "9999-12-31T23:59:00.000Z"},  # + SLA > 9999
]


def generate(rng: random.Random) -> History:
    h = History()
    days = (DATA_END - DATA_START).days + 1
    shops = [f"shop-{n:02d}.myshopify.com" for n in range(50)]

    # ---- sessions and activation decisions
    activity = {shop: rng.choice([0.9, 0.6, 0.3, 0.1, 0.03]) for shop in shops}
    ops_shops = set(rng.sample(shops, 20))
    for day in range(days):
        day_start = DATA_START + timedelta(days=day)
        day_end = day_start + timedelta(days=1)
        for shop in shops:
            if rng.random() < activity[shop]:
                for _ in range(rng.randint(1, 2)):
                    h.fact(shop, SESSIONS, random_time(rng, day_start, day_end), {"path": "/app"})
            if shop in ops_shops and rng.random() < 0.25:
                h.decision(random_time(rng, day_start, day_end), shop=shop)
            if rng.random() < 0.03:
                h.decision(random_time(rng, day_start, day_end), scope="growth", shop=shop)
        if rng.random() < 0.5:
            blank = rng.choice(["", "   ", "\t", "__aggregate__"])
            h.fact(blank, SESSIONS, random_time(rng, day_start, day_end), {"path": "/app"})
            h.decision(random_time(rng, day_start, day_end), shop=blank)
        if rng.random() < 0.3:
            shop = rng.choice(shops)
            h.decision(random_time(rng, day_start, day_end), shop=shop.upper())
            h.decision(random_time(rng, day_start, day_end), shop=None)
            h.fact(shop, "shopify.order.synced", random_time(rng, day_start, day_end), {"n": 1})

    # ---- conversations that breach, and their decisions
    sla_minutes = {shop: rng.choice([15, 30, 60, 120]) for shop in shops}
    chatwoot_shops = rng.sample(shops, 30)
    conversations = []  # (id, shop, breached_at, open_until)
    for cid in unique_conversation_ids(rng, 420):
        shop = rng.choice(chatwoot_shops)
        breached_at = random_time(rng, DATA_START + timedelta(days=1), DATA_END - timedelta(days=1))
        precision = rng.random()  # whole seconds, tenths, hundredths, or milliseconds
        if precision < 0.2:
            breached_at = breached_at.replace(microsecond=0)
        elif precision < 0.35:
            breached_at = breached_at.replace(microsecond=breached_at.microsecond // 10**5 * 10**5)
        elif precision < 0.5:
            breached_at = breached_at.replace(microsecond=breached_at.microsecond // 10**4 * 10**4)
        open_until = breached_at + timedelta(minutes=rng.randint(30, 4 * 24 * 60))
        conversations.append((cid, shop, breached_at, open_until))

        ref = f"chatwoot:{cid}" if rng.random() < 0.9 else f"chatwoot:00{cid}"
        if rng.random() < 0.25:  # a decision before the breach
            h.decision(breached_at - MS * rng.randint(1, 2 * 24 * 3600 * 1000), shop=shop, ref=ref)
        if rng.random() < 0.1:  # references that are no resolution, after the breach
            h.decision(
                breached_at + MS * rng.randint(0, 600_000),
                shop=shop,
                ref=rng.choice([f"Chatwoot:{cid}", f"chatwoot:{cid} ", f"chatwoot:{cid}x"]),
            )
            h.decision(breached_at + MS * rng.randint(0, 600_000), scope="support", ref=ref)
        kind = rng.random()
        if kind < 0.2:
            continue  # never resolved
        if kind < 0.3:
            delay_ms = 0  # a tie: logged at the breach's very instant, which resolves it
        elif kind < 0.7:
            delay_ms = rng.randint(0, 12 * 3600 * 1000)  # up to 12 hours
        elif kind < 0.9:
            delay_ms = rng.randint(12 * 3600 * 1000, 5 * 24 * 3600 * 1000)  # up to 5 days
        else:
            delay_ms = rng.randint(8 * 24 * 3600 * 1000, 25 * 24 * 3600 * 1000)  # weeks later
        resolved_at = breached_at + MS * delay_ms
        h.decision(resolved_at, shop=shop, ref=ref)
        if rng.random() < 0.2:  # a follow-up, never the resolution
            h.decision(resolved_at + MS * rng.randint(1, 3 * 24 * 3600 * 1000), shop=shop, ref=ref)

    # ---- escalation snapshots, four a day per shop with open breached conversations
    by_shop: dict[str, list] = {}
    for conversation in conversations:
        by_shop.setdefault(conversation[1], []).append(conversation)
    for day in range(days):
        for hour in (0, 6, 12, 18):
            slot = DATA_START + timedelta(days=day, hours=hour)
            for shop, shop_conversations in by_shop.items():
                created_at = slot + MS * rng.randint(0, 3_600_000)
                open_now = [
                    c for c in shop_conversations if c[2] <= created_at <= c[3] + timedelta(hours=6)
                ]
                if open_now:
                    snapshot(h, rng, shop, created_at, open_now, sla_minutes[shop])
    return h


def snapshot(h: History, rng, shop: str, created_at: datetime, open_now, sla: int) -> None:
    value: list = []
    breaches: list = []
    # digit-string ids exist in the current format only
    legacy_format = created_at < LEGACY_CUTOVER and not any(isinstance(c[0], str) for c in open_now)
    for cid, _, breached_at, _ in open_now:
        # A later snapshot sometimes re-stamps the breach later; the earliest stands.
        stamp = breached_at
        if created_at - breached_at > timedelta(hours=6) and rng.random() < 0.15:
            stamp = breached_at + MS * rng.randint(1, 1_800_000)
        value.append(conversation_element(rng, cid, stamp, sla, current=not legacy_format))
        breaches.append(
            {
                "conversationId": str(cid).zfill(rng.choice([0, 0, 0, 8, 30]))
                if rng.random() < 0.3
                else cid,
                "breachedAt": iso(rng, stamp),
            }
        )
    # conversations in the list that did not breach: neither breaches nor rejected
    for _ in range(rng.randint(0, 2)):
        value.append(
            {
                "id": rng.randrange(1, 10**6),
                "slaBreached": rng.choice([False, "true", 1, None]),
                "createdAt": iso(rng, created_at - timedelta(minutes=5)),
            }
        )
    if rng.random() < 0.04:
        value.append(rng.choice(MALFORMED_LEGACY))
    metadata: dict = {"slaMinutes": sla, "source": "chatwoot"}
    if not legacy_format:
        if rng.random() < 0.06:
            breaches.append(rng.choice(MALFORMED_BREACHES))
        rng.shuffle(breaches)
        metadata["breaches"] = breaches
        if rng.random() < 0.02:
            metadata["breaches"] = {"items": breaches}  # not an array: one rejection
    rng.shuffle(value)
    h.fact(shop, ESCALATIONS, created_at, value, metadata)


def conversation_element(rng, cid, stamp: datetime, sla: int, *, current: bool) -> dict:
    """A ``slaBreached: true`` element of the conversation list whose breach time is
    ``stamp`` (or, with an epoch start, at most a second before it)."""
    if isinstance(cid, str):  # a digit-string id is no usable legacy id
        return {"id": cid, "slaBreached": False, "status": "open"}
    element = {"id": cid, "slaBreached": True, "status": "open"}
    start = stamp - timedelta(minutes=sla)
    how = rng.random()
    if current and how < 0.5:
        element["breachedAt"] = iso(rng, stamp)
    elif how < 0.6:
        element["createdAt"] = iso(rng, start)
    elif how < 0.7:
        element["lastMessageAt"] = iso(rng, start)
    elif how < 0.8:
        element["createdAt"] = "not a date"
        element["lastMessageAt"] = iso(rng, start)
    elif how < 0.9:
        element["created_at"] = epoch_seconds(start)
    else:
        element["createdAt"] = iso(rng, start)
        element["created_at"] = epoch_seconds(start) - 3600  # createdAt comes first
    return element


def insert(db, h: History) -> None:
    with db.connect() as conn, conn.cursor() as cur:
        with cur.copy(
            'copy "DashboardFact" ("shopDomain", "factType", value, metadata, "createdAt",'
            ' "updatedAt") from stdin'
        ) as copy:
            for row in h.fact_rows:
                copy.write_row(row)
        cur.executemany(
            'insert into "DecisionLog" (scope, actor, action, "shopDomain", "externalRef",'
            ' "createdAt") values (%s, %s, %s, %s, %s, %s)',
            h.decision_rows,
        )
        conn.commit()


def staged_breach_times(db) -> list[tuple]:
    """(fact id, element index, ``breachedAt`` as text, the project's time) for every
    ``metadata.breaches`` element the project staged."""
    return db.execute(
        "select c.fact_id, c.element_index,"
        " f.metadata -> 'breaches' -> cast(c.element_index - 1 as integer) ->> 'breachedAt',"
        " c.breached_at"
        " from nightly_metrics.int_breach_candidates_remembered as c"
        ' join "DashboardFact" as f on f.id = c.fact_id'
        " where c.candidate_source = 'metadata.breaches' and c.element_index is not null"
    )


def test_random_history_matches_the_oracle_on_every_date(source_db):
    history = generate(random.Random(SEED))
    assert 3000 < len(history.fact_rows) + len(history.decision_rows) < 12000
    insert(source_db, history)

    # One run for the last date, then a backfill of the whole range (the last date again):
    # the second run reuses what the first parsed and must still give exactly one row each.
    source_db.run(LAST_AS_OF)
    source_db.run(FIRST_AS_OF, LAST_AS_OF)

    written = {(f["factType"], f["createdAt"].date()): f for f in source_db.aggregate_facts()}
    as_of_dates = [
        FIRST_AS_OF + timedelta(days=n) for n in range((LAST_AS_OF - FIRST_AS_OF).days + 1)
    ]
    assert len(source_db.aggregate_facts()) == 2 * len(as_of_dates)

    mismatches = []
    sample_sizes = []
    for as_of in as_of_dates:
        expected = expected_facts(history.facts, history.decisions, as_of)
        for fact_type in (ACTIVATION_FACT_TYPE, SLA_FACT_TYPE):
            got = written[(fact_type, as_of)]["value"]
            if got != expected[fact_type]:
                mismatches.append((str(as_of), fact_type, got, expected[fact_type]))
        sla = written[(SLA_FACT_TYPE, as_of)]
        breaches, rejected = contract_oracle.breach_candidates(history.facts, as_of)
        rejected += contract_oracle.non_array_breaches_facts(history.facts, as_of)
        counts = (sla["metadata"]["breachesSeen"], sla["metadata"]["breachCandidatesRejected"])
        if counts != (len(breaches), rejected):
            mismatches.append(
                (str(as_of), "breachesSeen/rejected", counts, (len(breaches), rejected))
            )
        sample_sizes.append(sla["value"]["sampleSize"])

    assert not mismatches, "\n".join(map(repr, mismatches))
    # Each spelling on its own too: the figures take the earliest time per conversation,
    # which hides a spelling parsed 1 µs late when another snapshot's is parsed right.
    spellings = staged_breach_times(source_db)
    wrong = [row for row in spellings if row[3] != contract_oracle.parse_timestamp(row[2])]
    assert not wrong, "\n".join(map(repr, wrong[:20])) + f"\n({len(wrong)} in all)"
    assert len(spellings) > 1000, len(spellings)
    # Not vacuous: real samples, real activation, and rejections to count.
    assert max(sample_sizes) > 20, sample_sizes
    assert min(sample_sizes) > 0, sample_sizes
    last = written[(ACTIVATION_FACT_TYPE, LAST_AS_OF)]["value"]
    assert 0 < last["activatedShops"] < last["totalActiveShops"]
    assert written[(SLA_FACT_TYPE, LAST_AS_OF)]["metadata"]["breachCandidatesRejected"] > 0
