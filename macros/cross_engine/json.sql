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
    Two columns for the member `key` of a JSON object, `<prefix>_type` (as
    json_type) and `<prefix>_text` (as json_scalar_text): what the staging
    models read of every member before deciding whether it is usable.
-#}
{% macro json_member_type_and_text(json_expr, key, prefix) -%}
    {%- set member = nightly_metrics.json_member(json_expr, key) %}
    {{ nightly_metrics.json_type(member) }} as {{ prefix }}_type,
    {{ nightly_metrics.json_scalar_text(member) }} as {{ prefix }}_text
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

{#-
    A JSON object to nest inside json_object (PostgreSQL: jsonb; Spark: a
    struct, which the outer to_json writes as an object).
-#}
{% macro json_nested_object(pairs) %}
    {{- return(adapter.dispatch('json_nested_object', 'nightly_metrics')(pairs)) -}}
{% endmacro %}
{% macro default__json_nested_object(pairs) -%}
    {{ nightly_metrics.default__json_object(pairs) }}
{%- endmacro %}

{#-
    An aggregate: the sorted non-null values of a text expression as a JSON
    array of strings (an empty array when there are none), for json_object.
-#}
{% macro json_text_array_agg(text_expr) %}
    {{- return(adapter.dispatch('json_text_array_agg', 'nightly_metrics')(text_expr)) -}}
{% endmacro %}
{% macro default__json_text_array_agg(text_expr) -%}
    coalesce(
        jsonb_agg({{ text_expr }} order by {{ text_expr }})
            filter (where {{ text_expr }} is not null),
        '[]'::jsonb
    )
{%- endmacro %}

{#-
    Spark keeps JSON as text (the replica's value/metadata/payload columns are
    STRING). Every JSON value these macros pass around is JSON text; each one
    parses it with try_parse_json (VARIANT, Spark 4.0+), so the JSON type of a
    member survives (get_json_object and from_json would unquote strings and
    lose it). Text that is not valid JSON reads as SQL null, like a missing
    member. A member that is JSON null stays the JSON text 'null'.
-#}
{% macro spark__json_member(json_expr, key) -%}
    to_json(try_variant_get(try_parse_json({{ json_expr }}), '$["{{ key }}"]', 'variant'))
{%- endmacro %}

{% macro spark__json_type(json_expr) -%}
    case
        when schema_of_variant(try_parse_json({{ json_expr }})) like 'OBJECT%' then 'object'
        when schema_of_variant(try_parse_json({{ json_expr }})) like 'ARRAY%' then 'array'
        when schema_of_variant(try_parse_json({{ json_expr }})) = 'STRING' then 'string'
        when schema_of_variant(try_parse_json({{ json_expr }})) = 'BOOLEAN' then 'boolean'
        when schema_of_variant(try_parse_json({{ json_expr }})) = 'VOID' then 'null'
        when schema_of_variant(try_parse_json({{ json_expr }})) is not null then 'number'
    end
{%- endmacro %}

{% macro spark__json_scalar_text(json_expr) -%}
    try_variant_get(try_parse_json({{ json_expr }}), '$', 'string')
{%- endmacro %}

{#- LATERAL VIEW, not a join: Spark's generators are how rows fan out. -#}
{% macro spark__join_json_array_elements(json_expr, alias) -%}
    lateral view inline(
        transform(
            try_variant_get(try_parse_json({{ json_expr }}), '$', 'array<variant>'),
            (element_value, element_position) -> named_struct(
                'element', to_json(element_value),
                'element_index', cast(element_position + 1 as bigint)
            )
        )
    ) {{ alias }} as element, element_index
{%- endmacro %}

{#- JSON text; null members are written as JSON null, not left out. -#}
{% macro spark__json_object(pairs) -%}
    to_json(
        named_struct(
            {%- for key, expr in pairs %}
            '{{ key }}', {{ expr }}{{ ',' if not loop.last }}
            {%- endfor %}
        ),
        map('ignoreNullFields', 'false')
    )
{%- endmacro %}

{% macro spark__json_nested_object(pairs) -%}
    named_struct(
        {%- for key, expr in pairs %}
        '{{ key }}', {{ expr }}{{ ',' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{#- collect_list skips nulls; an array value nests as a JSON array. -#}
{% macro spark__json_text_array_agg(text_expr) -%}
    array_sort(collect_list({{ text_expr }}))
{%- endmacro %}
