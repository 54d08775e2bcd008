{#-
    JSON access, one macro per operation so the models read the same on every
    engine. PostgreSQL (the default) keeps payloads as jsonb; engines without a
    JSON type keep them as JSON text.
-#}

{#- The member `key` of a JSON object (JSON null when absent). -#}
{% macro json_member(json_expr, key) %}
    {{- return(adapter.dispatch('json_member', 'nightly_metrics')(json_expr, key)) -}}
{% endmacro %}
{% macro default__json_member(json_expr, key) -%}
    ({{ json_expr }} -> '{{ key }}')
{%- endmacro %}

{#- 'object', 'array', 'string', 'number', 'boolean' or 'null'. -#}
{% macro json_type(json_expr) %}
    {{- return(adapter.dispatch('json_type', 'nightly_metrics')(json_expr)) -}}
{% endmacro %}
{% macro default__json_type(json_expr) -%}
    jsonb_typeof({{ json_expr }})
{%- endmacro %}

{#- A scalar's text: a string without its quotes, a number as written. -#}
{% macro json_scalar_text(json_expr) %}
    {{- return(adapter.dispatch('json_scalar_text', 'nightly_metrics')(json_expr)) -}}
{% endmacro %}
{% macro default__json_scalar_text(json_expr) -%}
    ({{ json_expr }} #>> '{}')
{%- endmacro %}

{#-
    A join clause that turns each element of a JSON array into a row with
    columns `element` and `element_index` (1-based). Rows whose expression is
    not an array yield no elements (and are kept, with nulls, when `outer`).
-#}
{% macro join_json_array_elements(json_expr, alias) %}
    {{- return(adapter.dispatch('join_json_array_elements', 'nightly_metrics')(json_expr, alias)) -}}
{% endmacro %}
{% macro default__join_json_array_elements(json_expr, alias) -%}
    cross join lateral jsonb_array_elements(
        case
            when jsonb_typeof({{ json_expr }}) = 'array' then {{ json_expr }}
            else '[]'::jsonb
        end
    ) with ordinality as {{ alias }} (element, element_index)
{%- endmacro %}

{#- A JSON object from (key, SQL expression) pairs, for the written facts. -#}
{% macro json_object(pairs) %}
    {{- return(adapter.dispatch('json_object', 'nightly_metrics')(pairs)) -}}
{% endmacro %}
{% macro default__json_object(pairs) -%}
    jsonb_build_object(
        {%- for key, expr in pairs %}
        '{{ key }}', {{ expr }}{{ ',' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}
