{#-
    Fails with one row per combination of `combination_of_columns` that
    occurs more than once, the way dbt-utils' unique_combination_of_columns
    does: the model's grain is that combination. Nulls group together, so a
    repeated combination with nulls in it fails too.

    Arguments:
    - combination_of_columns: list of column names (or expressions).
    - quote_columns (optional, default false): quote the names as identifiers.
    - window_column, window_lookback_days (optional): as in
      expression_is_true, check only the rows this run reads.
    - skip_if_missing (optional): as in expression_is_true.
-#}
{% test unique_combination_of_columns(
    model,
    combination_of_columns,
    quote_columns=false,
    window_column=none,
    window_lookback_days=0,
    skip_if_missing=false
) %}

{%- set columns = [] -%}
{%- for column in combination_of_columns -%}
    {%- do columns.append(adapter.quote(column) if quote_columns else column) -%}
{%- endfor -%}
{%- set columns_csv = columns | join(', ') -%}

{%- if skip_if_missing and execute and load_relation(model) is none %}
select 'no table' as failure_message where false
{%- else %}

with

duplicates as (

    select
        {{ columns_csv }},
        count(*) as row_count
    from {{ model }}
    {%- if window_column is not none %}
    where
        {{ window_column }} >= {{ nightly_metrics.run_window_start(window_lookback_days | int) }}
        and {{ window_column }} < {{ nightly_metrics.run_window_end() }}
    {%- endif %}
    group by {{ columns_csv }}
    having count(*) > 1

)

select
    'more than one row for ({{ columns_csv | replace("'", "''") }}) = ('
    {%- for column in columns %}
    || coalesce(cast({{ column }} as {{ dbt.type_string() }}), 'null')
    {%- if not loop.last %} || ', '{% endif %}
    {%- endfor %}
    || ')' as failure_message,
    *
from duplicates

{%- endif %}

{% endtest %}
