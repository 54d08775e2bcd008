{#-
    `materialized` for a CTE whose expensive columns are read several times:
    PostgreSQL otherwise inlines the CTE and evaluates each parsed column once
    per reference (five times faster on the breach payloads when
    materialized). Spark plans CTEs its own way and has no such keyword.
-#}
{% macro materialized_cte() %}
    {{- return(adapter.dispatch('materialized_cte', 'nightly_metrics')()) -}}
{% endmacro %}
{% macro default__materialized_cte() -%}
    materialized
{%- endmacro %}
{% macro spark__materialized_cte() -%}
{%- endmacro %}
