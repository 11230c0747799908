{#-
    The features the churn marts describe, defined once:
      numeric     - summarised by mean and median
      categorical - summarised by share per value; bands are categorical,
                    each with the column that sorts it
    Returns a dict with the keys `numeric` (list of column names) and
    `categorical` (list of dicts: column, sort_column).
-#}
{% macro analysis_features() -%}
    {{ return({
        'numeric': ['age', 'credit_score', 'property_score', 'balance', 'product_count', 'estimated_salary'],
        'categorical': [
            {'column': 'city', 'sort_column': 'city'},
            {'column': 'gender', 'sort_column': 'gender'},
            {'column': 'product_count', 'sort_column': 'product_count'},
            {'column': 'property_score', 'sort_column': 'property_score'},
            {'column': 'has_credit_card', 'sort_column': 'has_credit_card'},
            {'column': 'is_active', 'sort_column': 'is_active'},
            {'column': 'has_balance', 'sort_column': 'has_balance'},
            {'column': 'age_band', 'sort_column': 'age_band_order'},
            {'column': 'credit_score_band', 'sort_column': 'credit_score_band_order'},
            {'column': 'balance_band', 'sort_column': 'balance_band_order'},
            {'column': 'estimated_salary_band', 'sort_column': 'estimated_salary_band_order'},
        ],
    }) }}
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
            {{ p_hat }} + {{ z }}^2 / (2 * ({{ trials }}))
            {{ sign }} {{ z }} * sqrt(
                {{ p_hat }} * (1 - {{ p_hat }}) / ({{ trials }}) + {{ z }}^2 / (4 * ({{ trials }})^2)
            )
        ) / (1 + {{ z }}^2 / ({{ trials }}))
    )
{%- endmacro %}
