{#- One row per UTC date from start_date to end_date inclusive, column `as_of_date`. -#}
{% macro as_of_date_spine(start_date, end_date) %}
    {{- return(adapter.dispatch('as_of_date_spine', 'nightly_metrics')(start_date, end_date)) -}}
{% endmacro %}
{% macro default__as_of_date_spine(start_date, end_date) -%}
    select cast(day_start as date) as as_of_date
    from generate_series(
        cast('{{ start_date }}' as timestamp),
        cast('{{ end_date }}' as timestamp),
        interval '1 day'
    ) as spine (day_start)
{%- endmacro %}
{% macro spark__as_of_date_spine(start_date, end_date) -%}
    select explode(
        sequence(to_date('{{ start_date }}'), to_date('{{ end_date }}'), interval 1 day)
    ) as as_of_date
{%- endmacro %}

{#- One row per whole number from 0 to count - 1, column `day_offset`. -#}
{% macro day_offsets(count) %}
    {{- return(adapter.dispatch('day_offsets', 'nightly_metrics')(count)) -}}
{% endmacro %}
{% macro default__day_offsets(count) -%}
    select day_offset from generate_series(0, {{ count }} - 1) as offsets (day_offset)
{%- endmacro %}
{% macro spark__day_offsets(count) -%}
    select explode(sequence(0, {{ count }} - 1)) as day_offset
{%- endmacro %}
