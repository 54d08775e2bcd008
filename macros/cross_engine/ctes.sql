{#-
    Ends a LATERAL subquery whose columns are read several times above it,
    so they are computed once per row. PostgreSQL would pull a plain one up
    into the query and evaluate each column once per reference (fifteen
    times the work on the breach payloads). LIMIT ALL keeps it apart (as
    OFFSET 0 would, which sqlfluff cannot parse without a FROM) and still
    lets the rows it reads be filtered first, by the breach memory's
    per-snapshot lookup. Spark has no need.
-#}
{% macro evaluated_once() %}
    {{- return(adapter.dispatch('evaluated_once', 'nightly_metrics')()) -}}
{% endmacro %}
{% macro default__evaluated_once() -%}
    limit all
{%- endmacro %}
{% macro spark__evaluated_once() -%}
{%- endmacro %}

{#-
    `not materialized` for a CTE read more than once whose readers must
    filter it themselves: PostgreSQL otherwise computes such a CTE once, in
    full, and no filter of a model reading the view reaches the table's
    indexes. Spark inlines CTEs anyway.
-#}
{% macro inlined_cte() %}
    {{- return(adapter.dispatch('inlined_cte', 'nightly_metrics')()) -}}
{% endmacro %}
{% macro default__inlined_cte() -%}
    not materialized
{%- endmacro %}
{% macro spark__inlined_cte() -%}
{%- endmacro %}
