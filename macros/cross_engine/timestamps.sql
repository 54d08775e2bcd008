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
{% macro spark__current_utc_timestamp() -%}
    timestamp_millis(unix_millis(current_timestamp()))
{%- endmacro %}

{#-
    The moment of writing, in UTC to the millisecond: the statement's clock,
    not the transaction's start (now()), which lies before any wait for the
    write's lock.
-#}
{% macro write_time_utc() %}
    {{- return(adapter.dispatch('write_time_utc', 'nightly_metrics')()) -}}
{% endmacro %}
{% macro default__write_time_utc() -%}
    cast(clock_timestamp() at time zone 'UTC' as timestamp(3))
{%- endmacro %}
{% macro spark__write_time_utc() -%}
    {{ nightly_metrics.spark__current_utc_timestamp() }}
{%- endmacro %}

{#- Minutes since 1970-01-01 00:00 UTC, as an exact decimal. -#}
{% macro epoch_minutes(timestamp_expr) %}
    {{- return(adapter.dispatch('epoch_minutes', 'nightly_metrics')(timestamp_expr)) -}}
{% endmacro %}
{% macro default__epoch_minutes(timestamp_expr) -%}
    (extract(epoch from {{ timestamp_expr }}) / 60)
{%- endmacro %}
{% macro spark__epoch_minutes(timestamp_expr) -%}
    (cast(unix_micros({{ timestamp_expr }}) as decimal(38, 18)) / 60000000)
{%- endmacro %}

{#- `days` whole days after a date, as a date. -#}
{% macro add_days(date_expr, days) %}
    {{- return(adapter.dispatch('add_days', 'nightly_metrics')(date_expr, days)) -}}
{% endmacro %}
{% macro default__add_days(date_expr, days) -%}
    cast({{ date_expr }} + ({{ days }}) as date)
{%- endmacro %}
{% macro spark__add_days(date_expr, days) -%}
    date_add({{ date_expr }}, {{ days }})
{%- endmacro %}

{#- Whole days from date `start_expr` to date `end_expr` (negative if before). -#}
{% macro days_between(start_expr, end_expr) %}
    {{- return(adapter.dispatch('days_between', 'nightly_metrics')(start_expr, end_expr)) -}}
{% endmacro %}
{% macro default__days_between(start_expr, end_expr) -%}
    ({{ end_expr }} - {{ start_expr }})
{%- endmacro %}
{% macro spark__days_between(start_expr, end_expr) -%}
    datediff({{ end_expr }}, {{ start_expr }})
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
{% macro spark__minutes_between(start_expr, end_expr) -%}
    (cast(unix_micros({{ end_expr }}) - unix_micros({{ start_expr }}) as double) / 60000000D)
{%- endmacro %}

{#- A timestamp plus a (possibly fractional) number of minutes. -#}
{% macro add_minutes(timestamp_expr, minutes_expr) %}
    {{- return(adapter.dispatch('add_minutes', 'nightly_metrics')(timestamp_expr, minutes_expr)) -}}
{% endmacro %}
{% macro default__add_minutes(timestamp_expr, minutes_expr) -%}
    ({{ timestamp_expr }} + cast({{ minutes_expr }} as double precision) * interval '1 minute')
{%- endmacro %}
{#- As PostgreSQL multiplies an interval: rint() of the microseconds. -#}
{% macro spark__add_minutes(timestamp_expr, minutes_expr) -%}
    timestamp_micros(
        unix_micros({{ timestamp_expr }})
        + cast(rint(cast({{ minutes_expr }} as double) * 60000000D) as bigint)
    )
{%- endmacro %}

{#- Epoch seconds (numeric text) as a UTC timestamp; caller bounds the range. -#}
{% macro epoch_seconds_to_timestamp(seconds_text) %}
    {{- return(adapter.dispatch('epoch_seconds_to_timestamp', 'nightly_metrics')(seconds_text)) -}}
{% endmacro %}
{% macro default__epoch_seconds_to_timestamp(seconds_text) -%}
    (cast('1970-01-01' as timestamp)
        + cast({{ seconds_text }} as double precision) * interval '1 second')
{%- endmacro %}
{% macro spark__epoch_seconds_to_timestamp(seconds_text) -%}
    timestamp_micros(cast(rint(cast({{ seconds_text }} as double) * 1000000D) as bigint))
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
    {%- set offset_length -%}
        (case
            when right({{ t }}, 1) in ('Z', 'z') then 1
            when {{ offset_sign }} in ('+', '-') then 6
            else 0
        end)
    {%- endset -%}
    {#- The digits after the seconds' '.', however many, without the offset. -#}
    {%- set fraction = "substr(" ~ t ~ ", 21, length(" ~ t ~ ") - 20 - " ~ offset_length ~ ")" -%}
    {#- One regular expression per value: this runs for every breach element.
        CASE, not AND: PostgreSQL may evaluate AND operands in any order. -#}
    case when {{ t }} ~ {{ shape }} and left({{ t }}, 4) >= '1969' then
        case when substr({{ t }}, 9, 2) <= '28' or cast(substr({{ t }}, 9, 2) as integer) <= extract(
            day from make_date(cast(left({{ t }}, 4) as integer), cast(substr({{ t }}, 6, 2) as integer), 1)
            + interval '1 month' - interval '1 day'
        ) then
            {#- Fractions beyond microseconds round half up on the fraction's 7th
                digit, whatever their length (a double would round ties its own way);
                a shorter fraction has none, whatever follows it in the offset. #}
            case when substr({{ t }}, 20, 1) = '.' then
                cast(left({{ t }}, 19) as timestamp) + (
                    cast(substr({{ fraction }} || '000000', 1, 6) as integer)
                    + case when substr({{ fraction }}, 7, 1) between '5' and '9' then 1 else 0 end
                ) * interval '1 microsecond'
            else
                cast(left({{ t }}, length({{ t }}) - {{ offset_length }}) as timestamp)
            end
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

{#-
    Spark: the same accepted shapes as the PostgreSQL version (one regular
    expression, `\z` for the very end), the calendar check by try_to_timestamp
    (null for Feb 30), and the same arithmetic: fractions of a second become
    microseconds rounded half up on the 7th digit, and the offset is
    subtracted in microseconds, so any year survives it.
-#}
{% macro spark__parse_iso8601_utc(text_expr) -%}
    {%- set t = text_expr -%}
    {%- set shape -%}
        '^([0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]))[Tt ](([01][0-9]|2[0-3]):[0-5][0-9])(:([0-5][0-9])(\\.([0-9]+))?)?([Zz]|([+-])(([01][0-9]|2[0-3])):([0-5][0-9]))?\\z'
    {%- endset -%}
    {#- part[n]: the n-th group of the shape, null when it matched nothing. -#}
    {%- set part = [] -%}
    {%- for group in range(15) -%}
        {%- do part.append("nullif(regexp_extract(" ~ t ~ ", " ~ shape | trim ~ ", " ~ group ~ "), '')") -%}
    {%- endfor -%}
    case when {{ t }} rlike {{ shape }} and left({{ t }}, 4) >= '1969' then
        timestamp_micros(
            unix_micros(try_to_timestamp(
                concat({{ part[1] }}, ' ', {{ part[4] }}, ':', coalesce({{ part[7] }}, '00')),
                'yyyy-MM-dd HH:mm:ss'
            ))
            + coalesce(
                cast(substr(concat({{ part[9] }}, '000000'), 1, 6) as bigint)
                + case when substr({{ part[9] }}, 7, 1) between '5' and '9' then 1 else 0 end,
                0
            )
            - case {{ part[11] }} when '-' then -1 when '+' then 1 else 0 end
            * (
                coalesce(try_cast({{ part[12] }} as bigint), 0) * 3600
                + coalesce(try_cast({{ part[14] }} as bigint), 0) * 60
            ) * 1000000
        )
    end
{%- endmacro %}

{#- True when a timestamp lies in the contract's usable years 1970-9999. -#}
{% macro is_usable_timestamp(timestamp_expr) %}
    {{- return(adapter.dispatch('is_usable_timestamp', 'nightly_metrics')(timestamp_expr)) -}}
{% endmacro %}
{% macro default__is_usable_timestamp(timestamp_expr) %}
    {{- return("(" ~ timestamp_expr ~ " >= cast('1970-01-01' as timestamp) and "
        ~ timestamp_expr ~ " < cast('10000-01-01' as timestamp))") -}}
{% endmacro %}
{#- Spark cannot spell year 10000 as a literal: bounds in epoch microseconds. -#}
{% macro spark__is_usable_timestamp(timestamp_expr) %}
    {{- return("(unix_micros(" ~ timestamp_expr ~ ") >= 0 and unix_micros("
        ~ timestamp_expr ~ ") < 253402300800000000)") -}}
{% endmacro %}

{#- `2026-11-21T00:00:00.000Z`, as JavaScript's toISOString() writes it. -#}
{% macro iso8601_utc_string(timestamp_expr) %}
    {{- return(adapter.dispatch('iso8601_utc_string', 'nightly_metrics')(timestamp_expr)) -}}
{% endmacro %}
{% macro default__iso8601_utc_string(timestamp_expr) -%}
    to_char({{ timestamp_expr }}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
{%- endmacro %}
{#- Spark formats in the session time zone, which the profile pins to UTC. -#}
{% macro spark__iso8601_utc_string(timestamp_expr) -%}
    date_format({{ timestamp_expr }}, "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
{%- endmacro %}

{#- A date (or a timestamp's date) as YYYY-MM-DD text, whatever DateStyle says. -#}
{% macro iso_date(expr) %}
    {{- return(adapter.dispatch('iso_date', 'nightly_metrics')(expr)) -}}
{% endmacro %}
{% macro default__iso_date(expr) -%}
    to_char({{ expr }}, 'YYYY-MM-DD')
{%- endmacro %}
{% macro spark__iso_date(expr) -%}
    date_format({{ expr }}, 'yyyy-MM-dd')
{%- endmacro %}
