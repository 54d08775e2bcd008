{#- Continuous percentile (linear interpolation), as an aggregate. -#}
{% macro percentile_cont(fraction, order_expr) %}
    {{- return(adapter.dispatch('percentile_cont', 'nightly_metrics')(fraction, order_expr)) -}}
{% endmacro %}
{% macro default__percentile_cont(fraction, order_expr) -%}
    percentile_cont({{ fraction }}) within group (order by {{ order_expr }})
{%- endmacro %}
{#-
    PostgreSQL's float8 percentile_cont, step by step in doubles (rows
    floor/ceil of q * (n - 1), then lo + proportion * (hi - lo)), so both
    engines give the same double; Spark's own percentile interpolates with
    another formula that can differ in the last bit.
-#}
{% macro spark__percentile_cont(fraction, order_expr) -%}
    element_at(
        transform(
            array(array_sort(collect_list(cast({{ order_expr }} as double)))),
            sorted_values -> case
                when size(sorted_values) > 0 then
                    get(sorted_values, cast(floor(
                        cast({{ fraction }} as double) * (size(sorted_values) - 1)) as int))
                    + (
                        cast({{ fraction }} as double) * (size(sorted_values) - 1)
                        - floor(cast({{ fraction }} as double) * (size(sorted_values) - 1))
                    ) * (
                        get(sorted_values, cast(ceil(
                            cast({{ fraction }} as double) * (size(sorted_values) - 1)) as int))
                        - get(sorted_values, cast(floor(
                            cast({{ fraction }} as double) * (size(sorted_values) - 1)) as int))
                    )
            end
        ),
        1
    )
{%- endmacro %}

{#- Round half away from zero to `places` decimals, as an exact decimal. -#}
{% macro round_decimal(expr, places) %}
    {{- return(adapter.dispatch('round_decimal', 'nightly_metrics')(expr, places)) -}}
{% endmacro %}
{% macro default__round_decimal(expr, places) -%}
    round(cast({{ expr }} as numeric), {{ places }})
{%- endmacro %}
{#-
    PostgreSQL turns a double into numeric through its 15 significant digits
    (so 1.0249999999999999 becomes 1.025 before rounding); Spark would keep
    the double's shortest exact spelling. Doubles take the 15-digit step here.
-#}
{% macro spark__round_decimal(expr, places) -%}
    round(
        case
            when typeof({{ expr }}) = 'double'
                then cast(format_string('%.14e', {{ expr }}) as decimal(38, 18))
            else cast({{ expr }} as decimal(38, 18))
        end,
        {{ places }}
    )
{%- endmacro %}

{#-
    An exact decimal from a number or a number's text, for comparisons and
    ratios. PostgreSQL's numeric has no fixed size; Spark's decimal(38, 18)
    holds 20 integer digits and gives null (ANSI mode off, as dbt-spark sets
    it) for anything larger, which callers treat as out of range.
-#}
{% macro cast_numeric(expr) %}
    {{- return(adapter.dispatch('cast_numeric', 'nightly_metrics')(expr)) -}}
{% endmacro %}
{% macro default__cast_numeric(expr) -%}
    cast({{ expr }} as numeric)
{%- endmacro %}
{% macro spark__cast_numeric(expr) -%}
    try_cast({{ expr }} as decimal(38, 18))
{%- endmacro %}

{#-
    True when a text holds only whitespace (or nothing). Whitespace is the six
    ASCII characters (space, tab, LF, CR, VT, FF), spelled out: PostgreSQL's
    [[:space:]] follows the database's locale, so U+3000 or U+00A0 would be
    blank in one database and not in another.
-#}
{% macro is_blank(text_expr) %}
    {{- return(adapter.dispatch('is_blank', 'nightly_metrics')(text_expr)) -}}
{% endmacro %}
{% macro default__is_blank(text_expr) -%}
    ({{ text_expr }} ~ '^[ \t\n\r\v\f]*$')
{%- endmacro %}
{#- Java's \s is the six ASCII white-space characters; \z is the very end. -#}
{% macro spark__is_blank(text_expr) -%}
    ({{ text_expr }} rlike '^\\s*\\z')
{%- endmacro %}

{#- Does a text match a regular expression (POSIX-style, anchored by caller)? -#}
{% macro regex_matches(text_expr, pattern) %}
    {{- return(adapter.dispatch('regex_matches', 'nightly_metrics')(text_expr, pattern)) -}}
{% endmacro %}
{% macro default__regex_matches(text_expr, pattern) -%}
    ({{ text_expr }} ~ '{{ pattern }}')
{%- endmacro %}
{#-
    Java regular expressions. A final `$` becomes `\z`: Java's `$` also
    matches before a trailing line break, PostgreSQL's does not.
-#}
{% macro spark__regex_matches(text_expr, pattern) -%}
    {%- set java_pattern = pattern[:-1] ~ '\\\\z' if pattern.endswith('$') else pattern -%}
    ({{ text_expr }} rlike '{{ java_pattern }}')
{%- endmacro %}

{#- The first `n` values of `expr` in sorted order, over the rows where
    `condition` holds, as an array (empty when there are none). -#}
{% macro first_sorted_values(expr, n, condition) %}
    {{- return(adapter.dispatch('first_sorted_values', 'nightly_metrics')(expr, n, condition)) -}}
{% endmacro %}
{% macro default__first_sorted_values(expr, n, condition) -%}
    coalesce(
        (array_agg({{ expr }} order by {{ expr }}) filter (where {{ condition }}))[1:{{ n }}],
        cast(array[] as text [])
    )
{%- endmacro %}
{% macro spark__first_sorted_values(expr, n, condition) -%}
    slice(array_sort(collect_list(case when {{ condition }} then {{ expr }} end)), 1, {{ n }})
{%- endmacro %}
