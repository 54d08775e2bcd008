{#- Continuous percentile (linear interpolation), as an aggregate. -#}
{% macro percentile_cont(fraction, order_expr) %}
    {{- return(adapter.dispatch('percentile_cont', 'nightly_metrics')(fraction, order_expr)) -}}
{% endmacro %}
{% macro default__percentile_cont(fraction, order_expr) -%}
    percentile_cont({{ fraction }}) within group (order by {{ order_expr }})
{%- endmacro %}

{#- Round half away from zero to `places` decimals, as an exact decimal. -#}
{% macro round_decimal(expr, places) %}
    {{- return(adapter.dispatch('round_decimal', 'nightly_metrics')(expr, places)) -}}
{% endmacro %}
{% macro default__round_decimal(expr, places) -%}
    round(cast({{ expr }} as numeric), {{ places }})
{%- endmacro %}

{#- True when a text holds only whitespace (or nothing). -#}
{% macro is_blank(text_expr) %}
    {{- return(adapter.dispatch('is_blank', 'nightly_metrics')(text_expr)) -}}
{% endmacro %}
{% macro default__is_blank(text_expr) -%}
    ({{ text_expr }} ~ '^[[:space:]]*$')
{%- endmacro %}

{#- Does a text match a regular expression (POSIX-style, anchored by caller)? -#}
{% macro regex_matches(text_expr, pattern) %}
    {{- return(adapter.dispatch('regex_matches', 'nightly_metrics')(text_expr, pattern)) -}}
{% endmacro %}
{% macro default__regex_matches(text_expr, pattern) -%}
    ({{ text_expr }} ~ '{{ pattern }}')
{%- endmacro %}
