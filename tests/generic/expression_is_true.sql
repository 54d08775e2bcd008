{#-
    Fails with every row for which `expression` is false, the way dbt-utils'
    expression_is_true does. On a column (`column_name` set), the expression
    is appended to it: `expression: ">= 0"` checks `column >= 0`. A row whose
    expression is null passes, like a SQL check constraint: combine with
    not_null where a value is required. Each failing row says what is wrong
    in `failure_message`.

    Arguments:
    - expression: SQL that is true on every good row.
    - window_column (optional): a UTC timestamp column; when set, only rows
      this run reads are checked, those with window_column in
      [first window start - window_lookback_days, last window end). Keeps a
      nightly test on a staging model from scanning the table's history.
      (dbt's `where` config cannot call project macros, hence an argument.)
    - window_lookback_days (optional, default 0): days before the first
      window that the run also reads (the escalation look-back).
    - skip_if_missing (optional, default false): pass when the table does not
      exist (the runner's job_runs, which the runner alone creates, is absent
      from a database where only plain `dbt build` ever ran).
-#}
{% test expression_is_true(
    model,
    expression,
    column_name=none,
    window_column=none,
    window_lookback_days=0,
    skip_if_missing=false
) %}

{%- set condition = expression if column_name is none else column_name ~ ' ' ~ expression -%}

{%- if skip_if_missing and execute and load_relation(model) is none %}
select 'no table' as failure_message where false
{%- else %}

select
    'expected ({{ condition | replace("'", "''") }}) to be true' as failure_message,
    *
from {{ model }}
where
    not ({{ condition }})
    {%- if window_column is not none %}
    and {{ window_column }} >= {{ nightly_metrics.run_window_start(window_lookback_days | int) }}
    and {{ window_column }} < {{ nightly_metrics.run_window_end() }}
    {%- endif %}

{%- endif %}

{% endtest %}
