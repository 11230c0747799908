{#-
    The features the churn marts describe, as declared in var `features`
    (dbt_project.yml):
      numeric     - summarised by mean and median
      categorical - summarised by share per value; a band (`<name>_band`) is
                    sorted by its `<name>_band_order` column
    Returns a dict with the keys `numeric` (list of column names) and
    `categorical` (list of dicts: column, sort_column).
-#}
{% macro analysis_features() -%}
    {%- set categorical = [] -%}
    {%- for column in var('features')['categorical'] -%}
        {%- do categorical.append({
            'column': column,
            'sort_column': column ~ '_order' if column.endswith('_band') else column,
        }) -%}
    {%- endfor -%}
    {{ return({'numeric': var('features')['numeric'], 'categorical': categorical}) }}
{%- endmacro %}

{#-
    Wilson score interval for a proportion, as two SQL expressions.
    Arguments:
      successes - SQL expression: number of successes (e.g. churned customers)
      trials    - SQL expression: number of trials (customers)
      bound     - 'lower' or 'upper'
      z         - normal quantile (default 1.959963984540054, a 95 % interval)
    Matches statsmodels' proportion_confint(method='wilson'), checked by a pytest.
-#}
{% macro wilson_bound(successes, trials, bound, z=1.959963984540054) -%}
    {%- set sign = '-' if bound == 'lower' else '+' -%}
    {%- set p_hat = '((' ~ successes ~ ') / (' ~ trials ~ ')::double)' -%}
    {#- The interval always holds the observed rate; least/greatest only absorb rounding. -#}
    {{ 'least' if bound == 'lower' else 'greatest' }}(
        {{ p_hat }},
        (
            {{ p_hat }} + power({{ z }}, 2) / (2 * ({{ trials }}))
            {{ sign }} {{ z }} * sqrt(
                {{ p_hat }} * (1 - {{ p_hat }}) / ({{ trials }}) + power({{ z }}, 2) / (4 * power({{ trials }}, 2))
            )
        ) / (1 + power({{ z }}, 2) / ({{ trials }}))
    )
{%- endmacro %}

{#-
    The value at a 0-based fractional position of a sorted population, interpolated linearly as DuckDB's
    median() / quantile_cont() do, from a table of distinct values. An aggregate: use with GROUP BY.
    Arguments:
      value  - the column of distinct values
      up_to  - how many of the population hold this value or a smaller one (a running sum)
      middle - the position, e.g. (n - 1) / 2 for the median (the same on every row of the group)
-#}
{% macro value_at_middle(value, up_to, middle) -%}
    min({{ value }}) filter (where {{ up_to }} > floor({{ middle }}))
    + (
        min({{ value }}) filter (where {{ up_to }} > ceil({{ middle }}))
        - min({{ value }}) filter (where {{ up_to }} > floor({{ middle }}))
    ) * (any_value({{ middle }}) - floor(any_value({{ middle }})))
{%- endmacro %}
