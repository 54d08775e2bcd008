{#-
    Preflight: before any model builds, every column of the application's
    tables that this project reads or writes is checked, by name and by type
    class, against its one definition, the dbt sources
    (models/staging/app/_app__sources.yml): each such column has
    `config.meta: {type_class: …, needed_by: [facts]}`. A missing or mistyped
    column stops the run with a configuration error (the runner's exit 2)
    that names every problem and the facts that need the column, before
    anything is written. Called by on-run-start, after check_run_parameters.
    Skipped on Spark, whose replica keeps JSON as text.
-#}

{#- The class of a PostgreSQL type as information_schema.columns names it. -#}
{% macro source_type_class(data_type) %}
    {%- set classes = {
        'text': 'text',
        'character varying': 'text',
        'character': 'text',
        'json': 'json',
        'jsonb': 'json',
        'timestamp without time zone': 'timestamp',
        'timestamp with time zone': 'timestamp',
        'smallint': 'integer',
        'integer': 'integer',
        'bigint': 'integer',
    } -%}
    {{- return(classes.get(data_type | lower, data_type | lower)) -}}
{% endmacro %}

{#- How a message names a fact (a key of the var fact_types). -#}
{% macro fact_label(fact) %}
    {%- set labels = {'activation': 'activation', 'sla_resolution': 'SLA resolution'} -%}
    {{- return(labels.get(fact, fact)) -}}
{% endmacro %}

{#- The columns the project needs: [(table name, identifier, column, class,
    facts)], named as in the database (macros/source_naming.sql), in the
    order the sources file lists them. -#}
{% macro needed_source_columns() %}
    {%- set needed = [] -%}
    {%- for node in graph.sources.values() if node.source_name == 'app' -%}
        {%- for column in node.columns.values() -%}
            {%- set meta = column.get('meta') or (column.get('config') or {}).get('meta') or {} -%}
            {%- if meta.get('type_class') -%}
                {%- do needed.append((
                    node.name, node.identifier,
                    nightly_metrics.app_column_name(node.name, column.name),
                    meta['type_class'], meta.get('needed_by', []),
                )) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{- return(needed) -}}
{% endmacro %}

{% macro check_source_columns() %}
    {%- if not execute or target.type == 'spark' -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set needed = nightly_metrics.needed_source_columns() -%}
    {%- set schema = source('app', 'dashboard_fact').schema -%}
    {%- set identifiers = [] -%}
    {%- for name, identifier, _, _, _ in needed if identifier not in identifiers -%}
        {%- do identifiers.append(identifier) -%}
    {%- endfor -%}
    {%- set quoted_identifiers = [] -%}
    {%- for identifier in identifiers -%}
        {%- do quoted_identifiers.append("'" ~ identifier | replace("'", "''") ~ "'") -%}
    {%- endfor -%}
    {%- set query -%}
        select table_name, column_name, data_type
        from information_schema.columns
        where
            table_schema = '{{ schema | replace("'", "''") }}'
            and table_name in ({{ quoted_identifiers | join(', ') }})
    {%- endset -%}
    {%- set found_types = {} -%}
    {%- set found_tables = [] -%}
    {%- for row in run_query(query).rows -%}
        {%- do found_types.update({(row[0], row[1]): row[2]}) -%}
        {%- if row[0] not in found_tables -%}
            {%- do found_tables.append(row[0]) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set problems = [] -%}
    {%- for name, identifier, column, type_class, facts in needed -%}
        {%- set labels = [] -%}
        {%- for fact in facts -%}
            {%- do labels.append(nightly_metrics.fact_label(fact)) -%}
        {%- endfor -%}
        {%- set who = labels | join(' and ') if labels else 'this project' -%}
        {%- set verb = ' need ' if labels | length > 1 else ' needs ' -%}
        {%- set what = who ~ verb ~ identifier ~ '.' ~ column -%}
        {%- set data_type = found_types.get((identifier, column)) -%}
        {%- if identifier not in found_tables -%}
            {%- do problems.append(what ~ ' (' ~ type_class ~ '; table not found)') -%}
        {%- elif data_type is none -%}
            {%- do problems.append(what ~ ' (' ~ type_class ~ '; column not found)') -%}
        {%- elif nightly_metrics.source_type_class(data_type) != type_class -%}
            {%- do problems.append(
                what ~ ' as ' ~ type_class ~ ', found ' ~ data_type) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if problems -%}
        {{- nightly_metrics.configuration_error(
            "the application's tables in schema \"" ~ schema ~ "\" lack what this project"
            ~ " reads or writes: " ~ problems | join('; ')
            ~ ". Is DATABASE_URL the application's database, and have its migrations run?") -}}
    {%- endif -%}
    {{- return('') -}}
{% endmacro %}
