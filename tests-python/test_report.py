"""`nightly-metrics report` (issue 14): one self-contained HTML file, opened in a real
headless Chromium with the network blocked; the test reads the rendered page (its DOM
and a screenshot), not only the file's text."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import run_cli
from contract_oracle import ACTIVATION_FACT_TYPE, SLA_FACT_TYPE
from test_source_days_and_reruns import AS_OF, dense_streams

from nightly_metrics.errors import ExitCode

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium_or_skip() -> str:
    if CHROMIUM:
        return CHROMIUM
    if os.environ.get("NIGHTLY_METRICS_REQUIRE_CHROMIUM") == "1":
        pytest.fail("chromium is required here (NIGHTLY_METRICS_REQUIRE_CHROMIUM=1) but absent")
    pytest.skip("chromium is not installed (Debian: apt-get install chromium)")


def open_in_chromium(page: Path, work: Path) -> tuple[str, Path, list[dict]]:
    """The page's DOM after rendering, a screenshot, and the network requests the page
    itself made, with every network request blocked (a proxy that does not exist, no
    name resolution)."""
    browser = chromium_or_skip()
    common = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--proxy-server=127.0.0.1:9",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--window-size=1200,1800",
    ]
    netlog = work / "netlog.json"
    dom = subprocess.run(
        [
            *common,
            f"--user-data-dir={work / 'profile-dom'}",
            f"--log-net-log={netlog}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    screenshot = work / "report.png"
    subprocess.run(
        [
            *common,
            f"--user-data-dir={work / 'profile-shot'}",
            f"--screenshot={screenshot}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return dom, screenshot, page_requests(netlog)


def page_requests(netlog: Path) -> list[dict]:
    """URL requests started on behalf of a page (the browser's own background requests
    carry the initiator 'not an origin')."""
    log = json.loads(netlog.read_text())
    names = {number: name for name, number in log["constants"]["logEventTypes"].items()}
    return [
        event["params"]
        for event in log["events"]
        if names[event["type"]] == "URL_REQUEST_START_JOB"
        and "url" in event.get("params", {})
        and event["params"].get("initiator") != "not an origin"
    ]


class SvgCounter(HTMLParser):
    """Counts the markers (<use> elements) inside each element with an id."""

    def __init__(self):
        super().__init__()
        self.open: list[str | None] = []
        self.markers: Counter = Counter()
        self.ids: set[str] = set()

    EMPTY = ("use", "path", "rect", "circle", "meta", "br", "img", "stop")  # never hold others

    def handle_startendtag(self, tag, attrs):
        element_id = dict(attrs).get("id")
        if element_id:
            self.ids.add(element_id)
        if tag == "use":
            for owner in self.open:
                if owner:
                    self.markers[owner] += 1

    def handle_starttag(self, tag, attrs):
        self.handle_startendtag(tag, attrs)
        if tag not in self.EMPTY:
            self.open.append(dict(attrs).get("id"))

    def handle_endtag(self, tag):
        if tag not in self.EMPTY and self.open:
            self.open.pop()


def test_report_renders_offline_with_a_point_per_window_and_the_quality_marks(source_db, tmp_path):
    empty = AS_OF - timedelta(days=3)
    dense_streams(empty_session_day=empty).insert(source_db)
    first = AS_OF - timedelta(days=9)
    # a breach a day, each resolved by an ops decision two hours later: an SLA point a window
    for n in range(17):
        day = first - timedelta(days=7) + timedelta(days=n)
        breached = datetime(day.year, day.month, day.day, 8)
        source_db.add_escalations(
            breached + timedelta(minutes=5),
            [],
            {
                "breaches": [
                    {"conversationId": 9000 + n, "breachedAt": f"{breached:%Y-%m-%dT%H:%M}Z"}
                ]
            },
        )
        source_db.add_decision(
            breached + timedelta(hours=2, minutes=n), external_ref=f"chatwoot:{9000 + n}"
        )
    env = {"DATABASE_URL": source_db.uri}
    backfill = run_cli(["backfill", "--start", str(first), "--end", str(AS_OF)], env=env)
    assert backfill.returncode == ExitCode.DATA_MISSING, backfill.stderr  # one day missing

    page = tmp_path / "report" / "kpis.html"
    made = run_cli(
        ["report", "--out", str(page), "--since", str(first), "--png", str(tmp_path / "png")],
        env=env,
    )
    assert made.returncode == 0, made.stderr
    assert f"written to {page}" in made.stderr
    assert made.stdout == ""

    # what the database says, independently of the report
    stored = dict(
        source_db.execute(
            'select "factType", count(*) from "DashboardFact"'
            " where \"shopDomain\" = '__aggregate__' group by 1"
        )
    )
    withheld_days = {
        (row[0], row[1])
        for row in source_db.execute(
            "select w ->> 'factType', w ->> 'asOf' from nightly_metrics.job_runs,"
            " jsonb_array_elements(windows) as w where w ->> 'action' = 'withheld'"
        )
    }
    activation_withheld = {day for fact, day in withheld_days if fact == ACTIVATION_FACT_TYPE}
    # the empty day lies in the windows of the 7 as-of dates after it
    assert activation_withheld == {str(empty + timedelta(days=n)) for n in range(1, 4)}
    assert stored == {ACTIVATION_FACT_TYPE: 10 - 3, SLA_FACT_TYPE: 10}

    dom, screenshot, requests = open_in_chromium(page, tmp_path)
    assert requests == []  # the page fetched nothing
    counter = SvgCounter()
    counter.feed(dom)
    assert counter.markers["activation-rate"] == stored[ACTIVATION_FACT_TYPE]
    assert counter.markers["sla-median"] == stored[SLA_FACT_TYPE]
    assert counter.markers["sla-p90"] == stored[SLA_FACT_TYPE]
    assert counter.markers["activation-withheld-windows"] == len(activation_withheld)
    assert counter.markers["activation-missing-days"] == 1  # the one empty session day
    assert counter.markers["sla-withheld-windows"] == 0
    bars = {i for i in counter.ids if i.startswith("active-shops-")}
    assert len(bars) == stored[ACTIVATION_FACT_TYPE]
    # the KPI cards are the newest stored window's
    latest = source_db.execute(
        'select value from "DashboardFact" where "factType" = %s order by "createdAt" desc limit 1',
        (ACTIVATION_FACT_TYPE,),
    )[0][0]
    assert f"{latest['activatedShops']} of {latest['totalActiveShops']} active shops" in dom
    for section in ("kpis", "trend", "drivers", "data-quality", "runs"):
        assert f'<section id="{section}">' in dom
    assert dom.count('class="run withheld"') == 1

    # the screenshot shows the charts: the activation line's blue and the withheld crosses' red
    from PIL import Image

    with Image.open(screenshot) as image:
        pixels = {rgb: n for n, rgb in image.convert("RGB").getcolors(1 << 24)}

    def near(color: tuple[int, int, int]) -> int:
        def distance(rgb) -> int:
            return sum(abs(a - b) for a, b in zip(rgb, color, strict=True))

        return sum(n for rgb, n in pixels.items() if distance(rgb) < 40)

    blue, red = near((0x1F, 0x4E, 0x99)), near((0xC0, 0x39, 0x2B))
    assert blue > 500 and red > 50, (blue, red)

    for name in ("activation.png", "sla.png"):
        with Image.open(tmp_path / "png" / name) as image:
            assert image.size[0] > 800


def test_report_without_any_run_says_so(source_db, tmp_path):
    page = tmp_path / "empty.html"
    made = run_cli(["report", "--out", str(page)], env={"DATABASE_URL": source_db.uri})
    assert made.returncode == 0, made.stderr
    text = page.read_text()
    assert "No stored window in this period yet." in text
    assert "No run has been recorded yet" in text
    # nothing to fetch: no source, link or url() pointing anywhere
    assert re.search(r"""((src|href)\s*=|url\()\s*["']?[a-z]+:""", text) is None


def test_a_standup_report_of_60_days_shows_cards_gaps_and_drivers(source_db, tmp_path):
    """A demo-sized history of 60 days, backfilled from before its first day:
    the first windows have no active shop and are gaps labelled "no data";
    the cards and the driver lists are checked against the stored facts and
    the contract oracle."""
    import contract_oracle
    from test_drivers import oracle_inputs

    from nightly_metrics.synthetic import Scale, generate

    as_of = AS_OF
    with source_db.connect() as conn:
        generate(conn, Scale(shops=40, history_days=60), as_of=as_of, seed=3)
    first = as_of - timedelta(days=62)
    env = {"DATABASE_URL": source_db.uri}
    backfill = run_cli(["backfill", "--start", str(first), "--end", str(as_of)], env=env)
    assert backfill.returncode == 0, backfill.stderr
    page = tmp_path / "standup.html"
    made = run_cli(["report", "--out", str(page), "--since", str(first)], env=env)
    assert made.returncode == 0, made.stderr
    dom, _, requests = open_in_chromium(page, tmp_path)
    assert requests == []

    facts = {
        (fact_type, created.date()): value
        for fact_type, created, value in source_db.execute(
            'select "factType", "createdAt", value from "DashboardFact"'
            " where \"shopDomain\" = '__aggregate__'"
        )
    }
    empty = sorted(d for (t, d), v in facts.items() if t == ACTIVATION_FACT_TYPE
                   and v["totalActiveShops"] == 0)  # fmt: skip
    assert len(empty) >= 2  # the windows before the history's first day
    for day in empty:
        assert f'id="activation-rate-no-data-{day}"' in dom
    counter = SvgCounter()
    counter.feed(dom)
    with_data = [
        d for (t, d), v in facts.items() if t == ACTIVATION_FACT_TYPE and v["totalActiveShops"]
    ]
    assert counter.markers["activation-rate"] == len(with_data)  # no 0 point for an empty window

    now, before = (
        facts[(ACTIVATION_FACT_TYPE, as_of)],
        facts[(ACTIVATION_FACT_TYPE, as_of - timedelta(days=7))],
    )
    card = re.search(r'id="card-activation-rate" data-value="([^"]*)" data-change="([^"]*)"', dom)
    assert float(card.group(1)) == pytest.approx(float(now["activationRate"]) * 100, abs=0.005)
    change = (float(now["activationRate"]) - float(before["activationRate"])) * 100
    assert float(card.group(2)) == pytest.approx(change, abs=0.005)
    sla_now = facts[(SLA_FACT_TYPE, as_of)]
    sla_before = facts[(SLA_FACT_TYPE, as_of - timedelta(days=7))]
    card = re.search(r'id="card-sla-median" data-value="([^"]*)" data-change="([^"]*)"', dom)
    assert float(card.group(2)) == pytest.approx(
        float(sla_now["medianMinutes"]) - float(sla_before["medianMinutes"]), abs=0.005
    )

    facts_in, decisions = oracle_inputs(source_db)
    active, activated = contract_oracle.activation_shops(facts_in, decisions, as_of)
    _, activated_before = contract_oracle.activation_shops(
        facts_in, decisions, as_of - timedelta(days=7)
    )
    newly = sorted(activated - activated_before)
    row = re.search(r'<tr id="driver-newly_activated_shops">(.*?)</tr>', dom).group(1)
    assert f'<td class="count">{len(newly)}</td>' in row
    assert ", ".join(newly[:10]) in row
    assert '<table id="slowest-breaches">' in dom
    (flow,) = source_db.execute(
        "select breaches_in, open_breaches from nightly_metrics.fct_sla_breach_flow_rolling7d"
    )
    assert f"Breaches that came in: {flow[0]} " in dom
    assert f"still open at the window's end: {flow[1]}." in dom
