{#-
    The as-of dates a run computes. `as_of` sets a single date; `as_of_start`
    and `as_of_end` set an inclusive range (a backfill). Unset means today's
    UTC date, so a run at 02:00 UTC reports the seven days that ended at
    midnight. Dates are validated here, before they reach any SQL.
-#}
{% macro today_utc() %}
    {{- return(modules.datetime.datetime.now(modules.pytz.utc).strftime('%Y-%m-%d')) -}}
{% endmacro %}

{% macro check_as_of_date(name, value) %}
    {%- set text = value | string | trim -%}
    {%- set ok = modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', text) is not none -%}
    {%- if ok -%}
        {%- set year = text[0:4] | int -%}
        {%- set month = text[5:7] | int -%}
        {%- set day = text[8:10] | int -%}
        {%- set ok = 1971 <= year <= 9998 and 1 <= month <= 12 and day >= 1 -%}
        {%- if ok -%}
            {%- set first = modules.datetime.date(year, month, 1) -%}
            {%- set next_first = modules.datetime.date(year + 1, 1, 1) if month == 12
                else modules.datetime.date(year, month + 1, 1) -%}
            {%- set ok = day <= (next_first - first).days -%}
        {%- endif -%}
    {%- endif -%}
    {%- if not ok -%}
        {{ exceptions.raise_compiler_error(
            "var '" ~ name ~ "' must be a real date as YYYY-MM-DD (years 1971 to 9998), got '"
            ~ text ~ "'") }}
    {%- endif -%}
    {{- return(text) -}}
{% endmacro %}

{% macro as_of_start() %}
    {%- set value = var('as_of_start', none) or var('as_of', none) or nightly_metrics.today_utc() -%}
    {{- return(nightly_metrics.check_as_of_date('as_of_start', value)) -}}
{% endmacro %}

{% macro as_of_end() %}
    {%- set value = var('as_of_end', none) or var('as_of', none) or nightly_metrics.today_utc() -%}
    {%- set end = nightly_metrics.check_as_of_date('as_of_end', value) -%}
    {%- if end < nightly_metrics.as_of_start() -%}
        {{ exceptions.raise_compiler_error(
            "as_of_end (" ~ end ~ ") is before as_of_start (" ~ nightly_metrics.as_of_start() ~ ")") }}
    {%- endif -%}
    {#- A later window would end in the future: its fact, dated by createdAt,
        would outrank every real window on the dashboard until that day. -#}
    {%- set tomorrow = (modules.datetime.datetime.now(modules.pytz.utc)
        + modules.datetime.timedelta(days=1)).strftime('%Y-%m-%d') -%}
    {%- if end > tomorrow -%}
        {{ exceptions.raise_compiler_error(
            "as_of_end (" ~ end ~ ") is after tomorrow (" ~ tomorrow ~ ", UTC): its window would"
            ~ " end in the future") }}
    {%- endif -%}
    {{- return(end) -}}
{% endmacro %}

{#-
    How many days before its window a run reads the sources: the escalation
    look-back, or the baseline of the missing-source-day check if longer.
-#}
{% macro source_read_days() %}
    {{- return([var('escalation_lookback_days'), var('missing_day_baseline_days')] | max) -}}
{% endmacro %}

{#- The first UTC day any window of this run reads, as 'YYYY-MM-DD'. -#}
{% macro run_first_day(extra_days=0) %}
    {%- set start = modules.datetime.datetime.strptime(nightly_metrics.as_of_start(), '%Y-%m-%d') -%}
    {%- set first = start - modules.datetime.timedelta(days=var('window_days') + extra_days) -%}
    {{- return(first.strftime('%Y-%m-%d')) -}}
{% endmacro %}

{#- First and last instant any model of this run reads, as SQL literals. -#}
{% macro run_window_start(extra_days=0) %}
    {{- return(nightly_metrics.timestamp_literal(nightly_metrics.run_first_day(extra_days))) -}}
{% endmacro %}

{% macro run_window_end() %}
    {{- return(nightly_metrics.timestamp_literal(nightly_metrics.as_of_end())) -}}
{% endmacro %}
