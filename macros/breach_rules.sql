{#-
    The rules the breach candidates share (int_breach_candidates_parsed,
    stg_app__ops_decisions): one spelling of a conversation id, and the named
    bounds that keep a payload's numbers inside what the engines can compute.
-#}

{#-
    A Chatwoot conversation id in canonical digits: `digits` (an expression
    already checked to be one or more ASCII digits) without its leading
    zeros, and '0' for zero. Text, so ids of any size match exactly:
    `chatwoot:0042` resolves the payload's 42.
-#}
{% macro canonical_conversation_id(digits) -%}
    coalesce(nullif(trim(leading '0' from {{ digits }}), ''), '0')
{%- endmacro %}

{#-
    10000-01-01T00:00:00Z in epoch seconds: an epoch `created_at` at or past
    it is unusable anyway (the usable years are 1970-9999), and bounding it
    first keeps the conversion in range.
-#}
{% macro first_unusable_epoch_second() %}
    {{- return(253402300800) -}}
{% endmacro %}

{#-
    The same instant in epoch minutes (4 223 371 680 minutes from 1970 to
    10000), for a start plus slaMinutes.
-#}
{% macro first_unusable_epoch_minute() %}
    {{- return(4223371680) -}}
{% endmacro %}

{% macro minutes_per_day() %}
    {{- return(1440) -}}
{% endmacro %}

{#-
    Below this magnitude a JSON number reads as 0: a double cannot hold it
    (PostgreSQL fails the cast), and it is far below a microsecond anyway.
-#}
{% macro smallest_nonzero_json_number() %}
    {{- return('1e-300') -}}
{% endmacro %}

{#-
    slaMinutes of this magnitude or more are never usable (10^10 minutes is
    about 19 000 years); bounding them keeps the cast to a double and the
    timestamp arithmetic in range.
-#}
{% macro sla_minutes_limit() %}
    {{- return(10000000000) -}}
{% endmacro %}

{#-
    The key of the transaction-level advisory lock the breach memory's
    pre-hook takes (two overlapping builds would both parse a new snapshot).
    It keeps the memory's first name, so a run of an earlier version of the
    project and one of this version still wait for each other.
-#}
{% macro breach_memory_lock_key() %}
    {{- return('nightly_metrics.stg_app__escalation_breach_candidates') -}}
{% endmacro %}
