{#-
    Settings that reach SQL are checked before they do. A bad one stops the
    run with a message that starts "configuration error:", which the runner
    reads as exit 2 (the contract's "Exit codes"); plain `dbt build` stops
    the same way.
-#}
{% macro configuration_error(message) %}
    {{- exceptions.raise_compiler_error("configuration error: " ~ message) -}}
{% endmacro %}

{#-
    A boolean var: a YAML/JSON boolean, or the string 'true' or 'false'
    (any case). Anything else is an error, never read for its truthiness:
    `--vars '{write_back: "false"}'` must not write to the application.
-#}
{% macro bool_var(name, default=false) %}
    {%- set value = var(name, default) -%}
    {%- if value is sameas true or value is sameas false -%}
        {{- return(value) -}}
    {%- endif -%}
    {%- if value is string and value | trim | lower in ('true', 'false') -%}
        {{- return(value | trim | lower == 'true') -}}
    {%- endif -%}
    {{- nightly_metrics.configuration_error(
        "the var " ~ name ~ " must be true or false (or the string 'true' or 'false'), got "
        ~ value | string | truncate(40)) -}}
{% endmacro %}

{#-
    A schema name from the environment (NIGHTLY_METRICS_SOURCE_SCHEMA,
    NIGHTLY_METRICS_TARGET_SCHEMA). dbt quotes it as "name" without doubling
    an embedded quote, so such a name could end the identifier and inject
    SQL: only names without a double quote, a backtick or a control
    character are accepted, at most 63 bytes (PostgreSQL's limit).
-#}
{% macro check_schema_name(setting, name) %}
    {%- set text = name | string -%}
    {%- if text | length == 0 or text | length > 63
            or modules.re.search('["`\\x00-\\x1f\\x7f]', text) is not none -%}
        {{- nightly_metrics.configuration_error(
            setting ~ " must be a schema name of 1 to 63 characters without a double quote,"
            ~ " a backtick or a control character") -}}
    {%- endif -%}
{% endmacro %}
