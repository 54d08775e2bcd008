{#-
    The application's identifiers. The dbt sources name its tables and
    columns as its Prisma schema does ("DashboardFact"."shopDomain"); a
    preset of the var source_namings maps each to the name its database
    uses, for example the snake_case names of the schema introspected from
    its hosted database. The sources file resolves the table names itself
    (its YAML cannot call macros); every model, hook and test reads the
    column names through app_columns. docs/source-naming.md.
-#}

{#- The preset in use: the var source_naming, else the environment's
    NIGHTLY_METRICS_SOURCE_NAMING, else prisma. check_run_parameters stops
    a run whose preset is unknown. -#}
{% macro source_naming() %}
    {{- return(var('source_naming') or env_var('NIGHTLY_METRICS_SOURCE_NAMING', 'prisma')) -}}
{% endmacro %}

{% macro check_source_naming() %}
    {%- set presets = var('source_namings') -%}
    {%- if nightly_metrics.source_naming() not in presets -%}
        {{- nightly_metrics.configuration_error(
            "source_naming (NIGHTLY_METRICS_SOURCE_NAMING) is '" ~ nightly_metrics.source_naming()
            ~ "', not one of the presets of the var source_namings: "
            ~ presets.keys() | sort | join(', ')) -}}
    {%- endif -%}
{% endmacro %}

{#- The preset's names of `table` (a table of the source app, by its dbt
    name): {name as the sources give it: name in the database}. An unknown
    preset reads as prisma here; check_source_naming stops the run first. -#}
{% macro app_column_names(table) %}
    {%- set presets = var('source_namings') -%}
    {%- set preset = presets.get(nightly_metrics.source_naming(), presets['prisma']) -%}
    {{- return(preset[table]['columns']) -}}
{% endmacro %}

{#- A column's name in the database (unquoted). -#}
{% macro app_column_name(table, column) %}
    {{- return(nightly_metrics.app_column_names(table).get(column, column)) -}}
{% endmacro %}

{#- The quoted column names of `table`: app_columns('dashboard_fact').shopDomain
    is "shopDomain", or "shop_domain" under the snake_case preset. -#}
{% macro app_columns(table) %}
    {%- set quoted = {} -%}
    {%- for column, name in nightly_metrics.app_column_names(table).items() -%}
        {%- do quoted.update({column: adapter.quote(name)}) -%}
    {%- endfor -%}
    {{- return(quoted) -}}
{% endmacro %}

{#-
    Whether a row of "DashboardFact" can be read: it has a time and a
    payload. The hosted database's schema lets both be NULL; such a row
    belongs to no window and holds no fact. The staging models skip it, and
    the source's data test rows_usable counts it (a warning, never an error).
-#}
{% macro is_usable_fact(columns) %}
    {{- return('(' ~ columns.createdAt ~ ' is not null and ' ~ columns.value ~ ' is not null)') -}}
{% endmacro %}
