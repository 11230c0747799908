{#-
    Fail the build, naming the file and the missing or unexpected columns,
    when the header of a user's extract at `path` does not hold exactly the
    columns `expected_columns` (names exact, in any order: the base models
    select by name). Runs only at execution time.
-#}
{% macro check_extract_header(extract, path, expected_columns) %}
    {%- if execute -%}
        {%- set described = run_query(
            "describe select * from " ~ extract_rows(extract, path)
        ) -%}
        {%- set found = described.columns[0].values() | reject('in', ['source_row_number', 'metanprom_position']) | list -%}
        {%- if found | sort != expected_columns | sort or found | length != found | unique | list | length -%}
            {%- set missing = [] -%}
            {%- set unexpected = [] -%}
            {%- for column in expected_columns if column not in found -%}
                {%- do missing.append(column) -%}
            {%- endfor -%}
            {%- for column in found if column not in expected_columns -%}
                {%- do unexpected.append(column) -%}
            {%- endfor -%}
            {{ exceptions.raise_compiler_error(
                path ~ ": the header is not the expected one. Missing columns: "
                ~ (missing | join(", ") or "none") ~ "; unexpected columns: "
                ~ (unexpected | join(", ") or "none")
                ~ ((" (a column is named twice)") if not missing and not unexpected else "")
                ~ ". Expected: " ~ (expected_columns | join(","))
            ) }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
