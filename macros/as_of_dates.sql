{#-
    The as-of dates a run computes. `as_of` sets a single date; `as_of_start`
    and `as_of_end` set an inclusive range (a backfill). Each is read from the
    dbt var of that name, else from the environment variable
    NIGHTLY_METRICS_AS_OF, NIGHTLY_METRICS_AS_OF_START or NIGHTLY_METRICS_AS_OF_END
    (how the runner passes them). Unset means today's UTC date, so a run at
    02:00 UTC reports the seven days that ended at midnight. Dates are
    validated here, before they reach any SQL.

    They are read only when dbt executes, never while it parses: the parsed
    project is then the same every night, and dbt's partial parsing reuses
    it. A changed --vars makes dbt parse the whole project again; a changed
    environment variable read this way does not.
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
            name ~ " must be a real date as YYYY-MM-DD (years 1971 to 9998), got '"
            ~ text ~ "'") }}
    {%- endif -%}
    {{- return(text) -}}
{% endmacro %}

{% macro as_of_parameter(name) %}
    {%- set value = var(name, none) or var('as_of', none)
        or env_var('NIGHTLY_METRICS_' ~ name | upper, '') or env_var('NIGHTLY_METRICS_AS_OF', '')
        or nightly_metrics.today_utc() -%}
    {{- return(nightly_metrics.check_as_of_date(name, value)) -}}
{% endmacro %}

{#- While dbt parses, no SQL runs: a fixed date keeps the parse the same every night. -#}
{% macro as_of_start() %}
    {%- if not execute -%}
        {{- return('2000-01-01') -}}
    {%- endif -%}
    {{- return(nightly_metrics.as_of_parameter('as_of_start')) -}}
{% endmacro %}

{% macro as_of_end() %}
    {%- if not execute -%}
        {{- return('2000-01-01') -}}
    {%- endif -%}
    {%- set value = nightly_metrics.as_of_parameter('as_of_end') -%}
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

{#-
    on-run-start: a bad or future as-of date, a schema name that dbt's quoting
    cannot carry or a boolean var that is not a boolean stops the run before
    any node builds (the dates are read at execution, so this is the first
    place).
-#}
{% macro check_run_parameters() %}
    {%- if execute -%}
        {%- do nightly_metrics.as_of_start() -%}
        {%- do nightly_metrics.as_of_end() -%}
        {%- do nightly_metrics.check_schema_name(
            'NIGHTLY_METRICS_SOURCE_SCHEMA', source('app', 'dashboard_fact').schema) -%}
        {%- do nightly_metrics.check_schema_name('NIGHTLY_METRICS_TARGET_SCHEMA', target.schema) -%}
        {%- do nightly_metrics.check_source_naming() -%}
        {%- for name in ('write_back', 'allow_missing_days', 'allow_fewer_rows',
                'rebuild_breach_memory') -%}
            {%- do nightly_metrics.bool_var(name) -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
