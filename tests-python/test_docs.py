"""The docs: the Markdown pages, and the dbt docs site.

The pages (README.md, docs/*.md, BENCHMARKS.md): the README stays short and
links to every page, every relative link points at a file (and heading) that
exists, and the contract stays a valid dbt docs block.

The dbt docs: lineage from the app's tables to the dashboard exposure, and a
description for every model, source and column that really exists. One build
of the project against a fresh database, then `dbt docs generate`; the checks
read target/manifest.json (what the project declares) and target/catalog.json
(what the database holds), so a column added to a model without a description
fails here even if no YAML mentions it.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

from conftest import PROJECT_DIR

from nightly_metrics import dbt_invoke, project

AS_OF = "2026-11-28"
WINDOW_START = datetime(2026, 11, 21)
MART = "model.nightly_metrics.fct_ops_metrics_rolling7d"
EXPOSURE = "exposure.nightly_metrics.ops_kpis_dashboard_tile"
SOURCES = ("source.nightly_metrics.app.dashboard_fact", "source.nightly_metrics.app.decision_log")

README = PROJECT_DIR / "README.md"
DOCS_PAGES = sorted((PROJECT_DIR / "docs").glob("*.md"))
CONTRACT = PROJECT_DIR / "docs" / "metrics-contract.md"
README_MAX_LINES = 200
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)


def prose(page: Path) -> str:
    """The page without its fenced code blocks (a `[x](y)` there is code, not a link)."""
    return FENCE.sub("", page.read_text())


def relative_links(page: Path) -> list[str]:
    return [
        target
        for target in LINK.findall(prose(page))
        if not re.match(r"[a-z]+:", target)  # http:, https:, mailto:
    ]


def heading_anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the page's headings: lower case, punctuation
    dropped, spaces as hyphens, a repeated heading numbered."""
    anchors: set[str] = set()
    for heading in re.findall(r"^#+ (.+)$", prose(page), re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchor, n = slug, 0
        while anchor in anchors:
            n += 1
            anchor = f"{slug}-{n}"
        anchors.add(anchor)
    return anchors


def test_the_readme_is_at_most_200_lines():
    lines = len(README.read_text().splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines (at most {README_MAX_LINES})"


def test_the_readme_links_every_docs_page():
    linked = {(README.parent / target.split("#")[0]).resolve() for target in relative_links(README)}
    assert DOCS_PAGES
    unlinked = [page.name for page in DOCS_PAGES if page.resolve() not in linked]
    assert not unlinked, f"docs pages the README does not link to: {unlinked}"


def test_relative_links_point_at_files_and_headings_that_exist():
    broken = []
    for page in [README, PROJECT_DIR / "BENCHMARKS.md", *DOCS_PAGES]:
        for target in relative_links(page):
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{page.name}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in heading_anchors(linked):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_the_contract_is_one_dbt_docs_block_with_no_other_jinja():
    """docs/metrics-contract.md is the docs site's overview page: dbt reads it
    as Jinja, so any other `{{` or `{%` would break or change it."""
    lines = CONTRACT.read_text().strip().splitlines()
    assert lines[0] == "{% docs __overview__ %}" and lines[-1] == "{% enddocs %}"
    body = "\n".join(lines[1:-1])
    assert "{{" not in body and "{%" not in body and "{#" not in body


def test_the_readme_exit_codes_are_the_contracts():
    readme = README.read_text()
    table = readme[readme.index("## Exit codes") :]
    readme_codes = {
        int(code)
        for row in re.findall(r"^\| ([0-9, ]+) \|", table, re.MULTILINE)
        for code in row.split(",")
    }
    contract = CONTRACT.read_text()
    listed = re.search(r"^- Exit codes: (.*?)(?=^- |^#)", contract, re.DOTALL | re.MULTILINE)
    assert listed, "the contract's exit codes are missing"
    contract_codes = {int(code) for code in re.findall(r"\b(\d+)\b", listed.group(1))}
    assert readme_codes == contract_codes == {0, 1, 2, 3, 4, 5, 130, 143}


def build_and_document(source_db, tmp_path: Path) -> tuple[dict, dict]:
    """(manifest, catalog) of the project built and documented on a small fixture."""
    source_db.add_session("shop-a", WINDOW_START + timedelta(hours=1))
    source_db.add_decision(WINDOW_START + timedelta(hours=2), shop_domain="shop-a")
    source_db.add_escalations(
        WINDOW_START + timedelta(hours=3),
        [{"id": 7, "slaBreached": True, "createdAt": "2026-11-21T00:00:00.000Z"}],
        {
            "slaMinutes": 30,
            "breaches": [{"conversationId": 7, "breachedAt": "2026-11-21T00:30:00Z"}],
        },
    )
    source_db.add_decision(WINDOW_START + timedelta(hours=4), external_ref="chatwoot:7")

    # A sparse fixture: no stream is busy enough for an empty day to be missing.
    variables = {"as_of": AS_OF}
    target = tmp_path / "target"
    settings = source_db.settings
    schema = project.TARGET_SCHEMA_DEFAULT
    for args in (
        ["build", "--vars", json.dumps(variables), "--exclude-resource-type", "unit_test"],
        ["docs", "generate", "--vars", json.dumps(variables)],
    ):
        outcome = dbt_invoke.invoke_dbt(args, settings, schema, target_path=target)
        assert outcome.success, (
            args,
            outcome.exception,
            outcome.failed_nodes,
            outcome.failed_tests,
        )
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    return manifest, catalog


def _paths_to(manifest: dict, start: str, goal: str) -> list[list[str]]:
    """Every path from `start` up its parents to `goal`, each edge checked
    against child_map as well as parent_map."""
    parents, children = manifest["parent_map"], manifest["child_map"]
    found: list[list[str]] = []

    def walk(path: list[str]) -> None:
        node = path[-1]
        if node == goal:
            found.append(path)
            return
        for parent in parents.get(node, []):
            assert node in children.get(parent, []), f"child_map lacks {parent} -> {node}"
            if parent not in path:
                walk([*path, parent])

    walk([start])
    return found


def _model_name(unique_id: str) -> str:
    return unique_id.split(".")[-1] if unique_id.startswith("model.") else ""


def check_lineage(manifest: dict) -> None:
    """Exposure <- marts model <- some int_ model <- some stg_ model <- each source."""
    exposure = manifest["exposures"][EXPOSURE]
    assert exposure["type"] == "dashboard"
    assert exposure["owner"]["name"] or exposure["owner"]["email"]
    assert exposure["description"].strip()
    assert manifest["parent_map"][EXPOSURE] == [MART]

    for source in SOURCES:
        paths = _paths_to(manifest, EXPOSURE, source)
        layered = [
            path
            for path in paths
            if path[1] == MART
            and any(_model_name(node).startswith("int_") for node in path)
            and _model_name(path[-2]).startswith("stg_")
        ]
        assert layered, f"no path exposure -> {MART} -> int_ -> stg_ -> {source}: {paths}"


def _missing_descriptions(catalog_part: dict, manifest_part: dict) -> list[str]:
    missing = []
    for unique_id, entry in catalog_part.items():
        documented = manifest_part.get(unique_id)
        if documented is None:
            missing.append(f"{unique_id}: in the database but not in the manifest")
            continue
        if not (documented.get("description") or "").strip():
            missing.append(f"{unique_id}: no description")
        columns = {name.lower(): column for name, column in documented["columns"].items()}
        for name in entry["columns"]:
            column = columns.get(name.lower())
            if column is None or not (column.get("description") or "").strip():
                missing.append(f"{unique_id}.{name}: no description")
    return missing


def check_descriptions(manifest: dict, catalog: dict) -> None:
    """Every built model and source, and every column the database really has,
    is described in the manifest."""
    models = {
        unique_id
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["config"]["materialized"] != "ephemeral"
    }
    cataloged = {unique_id for unique_id in catalog["nodes"] if unique_id.startswith("model.")}
    # Every model was built, so the catalog shows its real columns.
    assert models and models == cataloged, sorted(models ^ cataloged)
    assert set(catalog["sources"]) == set(SOURCES)
    for unique_id in catalog["nodes"]:
        assert catalog["nodes"][unique_id]["columns"], f"{unique_id} has no columns"

    missing = _missing_descriptions(
        {k: v for k, v in catalog["nodes"].items() if k in models}, manifest["nodes"]
    )
    missing += _missing_descriptions(catalog["sources"], manifest["sources"])
    assert not missing, "\n".join(missing)


def check_persisted_comments(manifest: dict, catalog: dict) -> None:
    """persist_docs (macros/persist_docs.sql) wrote each model's description and
    each of its columns' as the database's comments, which the catalog reads
    back; and no model documents a column it does not have."""
    for unique_id, entry in catalog["nodes"].items():
        node = manifest["nodes"][unique_id]
        assert entry["metadata"]["comment"] == node["description"], unique_id
        built = {name.lower(): column for name, column in entry["columns"].items()}
        for name, column in node["columns"].items():
            assert name.lower() in built, f"{unique_id}.{name}: documented, not built"
            assert built[name.lower()]["comment"] == column["description"], (unique_id, name)


def check_contract(manifest: dict, catalog: dict) -> None:
    """The marts model's contract declares every built column, in order, typed."""
    node = manifest["nodes"][MART]
    assert node["config"]["contract"]["enforced"] is True
    built = catalog["nodes"][MART]["columns"]
    declared = node["columns"]
    assert list(declared) == sorted(built, key=lambda name: built[name]["index"])
    assert all(column["data_type"] for column in declared.values())
    checks = {c["name"] for c in node["constraints"] if c["type"] == "check"}
    assert {"activation_rate_is_between_0_and_1", "sla_median_is_at_most_the_p90"} <= checks


def test_docs_trace_both_sources_to_the_dashboard_and_describe_every_column(source_db, tmp_path):
    manifest, catalog = build_and_document(source_db, tmp_path)
    check_lineage(manifest)
    check_descriptions(manifest, catalog)
    check_persisted_comments(manifest, catalog)
    check_contract(manifest, catalog)
