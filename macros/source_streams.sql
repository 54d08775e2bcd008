{#-
    The source streams are defined once, in dbt_project.yml's var
    source_streams (the Python runner reads them there too). These macros
    are the only way the models and tests read it.
-#}
{% macro source_streams() %}
    {{- return(var('source_streams')) -}}
{% endmacro %}

{#- One stream's definition; an unknown name is a compiler error. -#}
{% macro source_stream(name) %}
    {%- set streams = nightly_metrics.source_streams() -%}
    {%- if name not in streams -%}
        {{- exceptions.raise_compiler_error(
            "unknown source stream '" ~ name ~ "': the var source_streams defines "
            ~ (streams.keys() | list | join(', '))
        ) -}}
    {%- endif -%}
    {{- return(streams[name]) -}}
{% endmacro %}

{#- The names of the streams `fact` (a key of fact_types) reads, in order. -#}
{% macro streams_read_by(fact) %}
    {%- set names = [] -%}
    {%- for name, stream in nightly_metrics.source_streams().items() -%}
        {%- if fact in stream['read_by'] -%}
            {%- do names.append(name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(names) -}}
{% endmacro %}

{#- Whether `fact` reads its streams over the look-back too (var lookback_facts). -#}
{% macro reads_lookback(fact) %}
    {{- return(fact in var('lookback_facts')) -}}
{% endmacro %}

{#-
    For the marts model's figures of `fact`: the columns of `relation` (its
    missing_days CTE) holding the missing days of each stream the fact reads,
    and their day counts summed as missing_source_day_count.
-#}
{% macro missing_days_columns(fact, relation) -%}
    {%- set names = nightly_metrics.streams_read_by(fact) -%}
    {%- for name in names %}
        {{ relation }}.missing_{{ name }}_days,
    {%- endfor %}
    {%- for name in names %}
        {{ relation }}.missing_{{ name }}_day_count
        {{- ' +' if not loop.last else ' as missing_source_day_count' }}
    {%- endfor %}
{%- endmacro %}

{#- The `streams` of aggregate_fact_json for `fact`: (metadata key, column). -#}
{% macro missing_days_json_streams(fact) %}
    {%- set pairs = [] -%}
    {%- for name in nightly_metrics.streams_read_by(fact) -%}
        {%- do pairs.append((
            nightly_metrics.source_stream(name)['metadata_key'],
            'missing_' ~ name ~ '_days',
        )) -%}
    {%- endfor -%}
    {{- return(pairs) -}}
{% endmacro %}

{#-
    For the marts model's missing_days CTE (over int_source_days_checked),
    per stream: missing_<stream>_days, its missing days as a JSON array, and
    missing_<stream>_day_count, their number.
-#}
{% macro missing_days_by_stream() -%}
    {%- for name in nightly_metrics.source_streams() %}
        {{ nightly_metrics.json_text_array_agg(
            "case when stream = '" ~ name ~ "' and is_missing"
            ~ " then cast(window_day as " ~ dbt.type_string() ~ ") end"
        ) }} as missing_{{ name }}_days,
        sum(case when stream = '{{ name }}' and is_missing then 1 else 0 end)
            as missing_{{ name }}_day_count{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#-
    The source rows `fact` reads, for the marts model's source_rows_read CTE
    (stream_days joined to as_of_dates over the look-back and the window):
    its streams' rows, of the window only unless it reads the look-back.
-#}
{% macro source_rows_read_by(fact) -%}
    cast(sum(
        case
            when
                stream_days.stream in (
                    '{{ nightly_metrics.streams_read_by(fact) | join("', '") }}'
                )
                {%- if not nightly_metrics.reads_lookback(fact) %}
                and stream_days.row_date >= as_of_dates.window_start_date
                {%- endif %}
                then stream_days.row_count
            else 0
        end
    ) as {{ dbt.type_bigint() }})
{%- endmacro %}
