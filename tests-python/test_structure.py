"""The runner stays thin and readable (issue 19): small modules, small
functions, no import cycle, and each fact type written down once."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from nightly_metrics import project

PACKAGE = Path(project.__file__).resolve().parent
PROJECT = PACKAGE.parent
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = ast.parse(path.read_text(), str(path))
    return found


def test_no_module_over_400_lines_and_no_function_over_60():
    too_long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = len(path.read_text().splitlines())
        if lines > MAX_MODULE_LINES:
            too_long.append(f"{path.name}: {lines} lines")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{path.name}: {node.name}() {length} lines")
    assert too_long == []


def imported(module: str, tree: ast.Module, known: set[str]) -> set[str]:
    """The package's modules this one imports, anywhere in it (functions too)."""
    package = module if module.count(".") == 0 else module.rsplit(".", 1)[0]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")[: -node.level] if module != package else [package]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                names.add(candidate if candidate in known else base)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name in known and name != module}


def test_no_import_cycle():
    trees = modules()
    graph = {name: imported(name, tree, set(trees)) for name, tree in trees.items()}
    cycles = []

    def visit(name: str, path: list[str]) -> None:
        for target in graph[name]:
            if target in path:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif len(path) < len(graph):
                visit(target, [*path, target])

    for name in graph:
        visit(name, [name])
    assert cycles == []


def product_files() -> list[Path]:
    """The product's code: the runner (not the synthetic data, which plays the
    application) and the dbt project's SQL and YAML (the unit tests' rows,
    which are data, aside)."""
    python = [p for p in PACKAGE.rglob("*.py") if "synthetic" not in str(p)]
    dbt = [
        p
        for folder in ("models", "macros", "tests")
        for pattern in ("*.sql", "*.yml")
        for p in (PROJECT / folder).rglob(pattern)
        if "unit_tests" not in p.name
    ]
    return python + dbt


def code_of(path: Path) -> str:
    """The file without its comments and descriptions, where naming a fact
    type in prose is fine."""
    text = path.read_text()
    if path.suffix == ".py":
        return "\n".join(line.split("#")[0] for line in text.splitlines())
    text = re.sub(r"\{#.*?#\}", "", text, flags=re.S)
    if path.suffix == ".yml":
        text = re.sub(r"(?ms)^(\s*)description: >?-?\n(?:\1\s+.*\n?)*", "", text)
        text = re.sub(r"(?m)^\s*description: .*$", "", text)
    return "\n".join(line.split("--")[0] for line in text.splitlines())


def test_each_fact_type_is_written_down_once():
    """In dbt_project.yml's vars; models, macros and the runner read it from there."""
    assert set(project.FACT_TYPES) == {
        "activation",
        "sla_resolution",
        "dashboard_session",
        "escalation_snapshot",
    }
    dbt_project = (PROJECT / "dbt_project.yml").read_text()
    copies = []
    for fact_type in project.FACT_TYPES.values():
        assert dbt_project.count(fact_type) == 1, fact_type
        pattern = re.compile(re.escape(fact_type))
        copies += [
            f"{path.name}: {fact_type}" for path in product_files() if pattern.search(code_of(path))
        ]
    assert copies == []


def _word(name: str) -> re.Pattern:
    """`name` as a whole word: `ops_decisions`, not `stg_app__ops_decisions`."""
    return re.compile(rf"(?<![\w]){re.escape(name)}(?![\w])")


def missing_day_tests() -> list[dict]:
    """The marts' source_days_arrived tests: yml cannot loop over a var, so
    each stream has one, named `<stream>_arrived` with argument `stream`."""
    models = yaml.safe_load((PROJECT / "models/marts/_marts__models.yml").read_text())
    return [
        test["source_days_arrived"]
        for model in models["models"]
        for test in model.get("data_tests", [])
        if isinstance(test, dict) and "source_days_arrived" in test
    ]


def without_stream_references(path: Path, text: str) -> str:
    """The text without the missing-day tests' references to a stream: the
    generic test looks its `stream` up in the var (an unknown one is a
    compiler error), so naming it there refers to the definition."""
    if path.name != "_marts__models.yml":
        return text
    for test in missing_day_tests():
        stream = re.escape(test["arguments"]["stream"])
        text = re.sub(rf"(?m)^\s*(name: {stream}_arrived|stream: {stream})\s*$", "", text)
    return text


def test_each_source_stream_is_written_down_once():
    """In dbt_project.yml's var source_streams, with its metadata key and its
    name in logs; models, macros, data tests and the runner read it there."""
    assert list(project.SOURCE_STREAMS) == [
        "dashboard_sessions",
        "escalation_snapshots",
        "ops_decisions",
    ]
    tests = missing_day_tests()
    assert sorted(t["arguments"]["stream"] for t in tests) == sorted(project.SOURCE_STREAMS)
    assert all(t["name"] == f"{t['arguments']['stream']}_arrived" for t in tests)
    generic = PROJECT / "tests/generic/source_days_arrived.sql"
    assert "nightly_metrics.source_stream(stream)" in code_of(generic)
    dbt_project = (PROJECT / "dbt_project.yml").read_text()
    copies = []
    for name, stream in project.SOURCE_STREAMS.items():
        for spelling in (name, stream["metadata_key"], stream["label"]):
            pattern = _word(spelling)
            assert len(pattern.findall(dbt_project)) == 1, spelling
            copies += [
                f"{path.name}: {spelling}"
                for path in product_files()
                if pattern.search(without_stream_references(path, code_of(path)))
            ]
    assert copies == []


def test_each_naming_preset_names_every_source_column_and_nothing_else():
    """The var source_namings maps the sources' own column names; a column
    added to the sources and not to a preset (or a preset's typo) fails here,
    not on the first night under that preset."""
    sources = yaml.safe_load((PROJECT / "models/staging/app/_app__sources.yml").read_text())
    app = next(source for source in sources["sources"] if source["name"] == "app")
    declared = {table["name"]: [c["name"] for c in table["columns"]] for table in app["tables"]}
    assert set(project.TABLE_NAME_VARIABLES) == set(declared)
    for preset, tables in project.SOURCE_NAMINGS.items():
        assert set(tables) == set(declared), preset
        for table, columns in declared.items():
            assert sorted(tables[table]["columns"]) == sorted(columns), (preset, table)
    # Prisma's names are the sources' own.
    for table, columns in declared.items():
        assert project.SOURCE_NAMINGS["prisma"][table]["columns"] == {c: c for c in columns}
