{#-
    persist_docs for PostgreSQL: a model's description and its columns' as
    comments, for analysts in a SQL client, in one statement per model.

    dbt's own macro asks the catalog for the relation's columns twice per
    model (each a macro call from Python that builds a whole macro context):
    about a tenth of a nightly's fixed cost on small data. Here the database
    itself skips a documented column the relation does not have, as dbt's
    macro does. It overrides dbt's (dispatch looks in the root project first).
-#}
{% macro postgres__persist_docs(relation, model, for_relation, for_columns) -%}
    {%- set comments = [] -%}
    {%- if for_relation and config.persist_relation_docs() and model.description -%}
        {%- do comments.append(alter_relation_comment(relation, model.description)) -%}
    {%- endif -%}
    {%- if for_columns and config.persist_column_docs() and model.columns -%}
        {%- set unqualified = relation.include(database=false) -%}
        {%- for name, column in model.columns.items() if column.description -%}
            {%- set quoted = column.quote or false -%}
            {%- set stored_name = name if quoted else name | lower -%}
            {%- set identifier = adapter.quote(name) if quoted else name -%}
            {%- do comments.append(
                "if exists (select from pg_catalog.pg_attribute where attrelid = '"
                ~ unqualified ~ "'::regclass and attname = '" ~ stored_name
                ~ "' and attnum > 0 and not attisdropped) then comment on column "
                ~ relation ~ "." ~ identifier ~ " is "
                ~ postgres_escape_comment(column.description) ~ "; end if;"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if comments -%}
        {%- do run_query(
            "do $persist_docs$ begin " ~ comments | join("\n") ~ " end $persist_docs$"
        ) -%}
    {%- endif -%}
{%- endmacro %}
