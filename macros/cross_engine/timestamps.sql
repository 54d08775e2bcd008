{#-
    Timestamps. Every timestamp in this project is a UTC wall-clock value in a
    `timestamp without time zone`, like the application's `timestamp(3)`
    columns, so no server, session or machine time zone can shift a figure.
-#}

{#- A UTC date 'YYYY-MM-DD' (validated by the caller) as a timestamp. -#}
{% macro timestamp_literal(date_text) %}
    {{- return("cast('" ~ date_text ~ "' as timestamp)") -}}
{% endmacro %}

{#- The current time in UTC, to the millisecond like the app's columns. -#}
{% macro current_utc_timestamp() %}
    {{- return(adapter.dispatch('current_utc_timestamp', 'nightly_metrics')()) -}}
{% endmacro %}
{% macro default__current_utc_timestamp() -%}
    cast(now() at time zone 'UTC' as timestamp(3))
{%- endmacro %}

{#- `days` whole days after a date, as a date. -#}
{% macro add_days(date_expr, days) %}
    {{- return(adapter.dispatch('add_days', 'nightly_metrics')(date_expr, days)) -}}
{% endmacro %}
{% macro default__add_days(date_expr, days) -%}
    cast({{ date_expr }} + ({{ days }}) as date)
{%- endmacro %}

{#- A date as the timestamp of its midnight. -#}
{% macro date_to_timestamp(date_expr) %}
    {{- return("cast(" ~ date_expr ~ " as timestamp)") -}}
{% endmacro %}

{#- Fractional minutes from `start_expr` to `end_expr`, as a double. -#}
{% macro minutes_between(start_expr, end_expr) %}
    {{- return(adapter.dispatch('minutes_between', 'nightly_metrics')(start_expr, end_expr)) -}}
{% endmacro %}
{% macro default__minutes_between(start_expr, end_expr) -%}
    cast(extract(epoch from ({{ end_expr }} - {{ start_expr }})) / 60 as double precision)
{%- endmacro %}

{#- A timestamp plus a (possibly fractional) number of minutes. -#}
{% macro add_minutes(timestamp_expr, minutes_expr) %}
    {{- return(adapter.dispatch('add_minutes', 'nightly_metrics')(timestamp_expr, minutes_expr)) -}}
{% endmacro %}
{% macro default__add_minutes(timestamp_expr, minutes_expr) -%}
    ({{ timestamp_expr }} + cast({{ minutes_expr }} as double precision) * interval '1 minute')
{%- endmacro %}

{#- Epoch seconds (numeric text) as a UTC timestamp; caller bounds the range. -#}
{% macro epoch_seconds_to_timestamp(seconds_text) %}
    {{- return(adapter.dispatch('epoch_seconds_to_timestamp', 'nightly_metrics')(seconds_text)) -}}
{% endmacro %}
{% macro default__epoch_seconds_to_timestamp(seconds_text) -%}
    (cast('1970-01-01' as timestamp)
        + cast({{ seconds_text }} as double precision) * interval '1 second')
{%- endmacro %}

{#-
    An ISO-8601 date-time as JavaScript and Chatwoot write it, as a UTC
    timestamp: `2026-11-20T10:00:00.000Z`, any fraction or none, offset `Z`,
    `±HH:MM` or none (then UTC); a space or lowercase `t`/`z` and missing
    seconds are accepted too. Anything else, including impossible dates such
    as Feb 30, gives null instead of an error, so one bad payload never fails
    a run. `text_expr` should be a column: it is read several times.
-#}
{% macro parse_iso8601_utc(text_expr) %}
    {{- return(adapter.dispatch('parse_iso8601_utc', 'nightly_metrics')(text_expr)) -}}
{% endmacro %}
{% macro default__parse_iso8601_utc(text_expr) -%}
    {%- set t = text_expr -%}
    {%- set shape -%}
        '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$'
    {%- endset -%}
    {#- Past the shape check, a '+' or '-' six from the end can only be an offset sign. -#}
    {%- set offset_sign = "substr(" ~ t ~ ", length(" ~ t ~ ") - 5, 1)" -%}
    {#- One regular expression per value: this runs for every breach element.
        CASE, not AND: PostgreSQL may evaluate AND operands in any order. -#}
    case when {{ t }} ~ {{ shape }} and left({{ t }}, 4) >= '1969' then
        case when substr({{ t }}, 9, 2) <= '28' or cast(substr({{ t }}, 9, 2) as integer) <= extract(
            day from make_date(cast(left({{ t }}, 4) as integer), cast(substr({{ t }}, 6, 2) as integer), 1)
            + interval '1 month' - interval '1 day'
        ) then
            cast(left({{ t }}, length({{ t }}) - case
                when right({{ t }}, 1) in ('Z', 'z') then 1
                when {{ offset_sign }} in ('+', '-') then 6
                else 0
            end) as timestamp)
            - case when {{ offset_sign }} in ('+', '-') then
                (case when {{ offset_sign }} = '-' then -1 else 1 end)
                * make_interval(
                    hours => cast(substr({{ t }}, length({{ t }}) - 4, 2) as integer),
                    mins => cast(right({{ t }}, 2) as integer)
                )
            else interval '0 minutes' end
        end
    end
{%- endmacro %}

{#- True when a timestamp lies in the contract's usable years 1970-9999. -#}
{% macro is_usable_timestamp(timestamp_expr) %}
    {{- return("(" ~ timestamp_expr ~ " >= cast('1970-01-01' as timestamp) and "
        ~ timestamp_expr ~ " < cast('10000-01-01' as timestamp))") -}}
{% endmacro %}

{#- `2026-11-21T00:00:00.000Z`, as JavaScript's toISOString() writes it. -#}
{% macro iso8601_utc_string(timestamp_expr) %}
    {{- return(adapter.dispatch('iso8601_utc_string', 'nightly_metrics')(timestamp_expr)) -}}
{% endmacro %}
{% macro default__iso8601_utc_string(timestamp_expr) -%}
    to_char({{ timestamp_expr }}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
{%- endmacro %}
