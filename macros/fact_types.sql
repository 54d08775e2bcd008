{#-
    The fact types this project reads and writes are defined once, in
    dbt_project.yml's var fact_types (the Python runner reads them there
    too): `activation`, `sla_resolution`, `dashboard_session`,
    `escalation_snapshot`.
-#}
{% macro fact_type_name(name) %}
    {{- return(var('fact_types')[name]) -}}
{% endmacro %}

{#- The same, as a SQL string literal. -#}
{% macro fact_type(name) %}
    {{- return("'" ~ nightly_metrics.fact_type_name(name) ~ "'") -}}
{% endmacro %}
