{%- set clusters = var('clusters') -%}
{%- set features = clusters['features'] -%}
{%- set centre_indexes = range(clusters['k_max']) -%}
{%- set cells = [] -%}
{%- for index in centre_indexes -%}
    {%- for feature in features -%}
        {%- do cells.append((index, feature)) -%}
    {%- endfor -%}
{%- endfor -%}

with

customers as (

    select * from {{ ref('customers') }}

),

centres as (

    select * from {{ ref('cluster_centres') }}

),

-- one row per extract: the scaler and every centre's coordinates side by side
-- (null for the centres beyond the extract's k)
centre_grid as (

    select
        {%- for feature in features %}
            max(case when feature = '{{ feature }}' then feature_mean end) as mean__{{ feature }},
            max(case when feature = '{{ feature }}' then feature_scale end) as scale__{{ feature }},
        {%- endfor %}
        {%- for index, feature in cells %}
            max(
                case when centre_index = {{ index }} and feature = '{{ feature }}' then centre_standardised end
            ) as c{{ index }}__{{ feature }},
        {%- endfor %}
        extract

    from centres
    group by extract

),

-- each customer's squared distance to each centre, in the scaler's units
distances as (

    select
        {%- for index in centre_indexes %}
            {{ standardised_squared_distance(features, index) }} as distance_{{ index }},
        {%- endfor %}
        customers.extract,
        customers.customer_key

    from customers
    inner join centre_grid
        on customers.extract = centre_grid.extract

),

-- the nearest centre; on a tie the lower index, as KMeans.predict's argmin
nearest as (

    select
        extract,
        customer_key,
        {{ nearest_centre_index(clusters['k_max']) }} as centre_index

    from distances

),

-- cluster 1 is the largest; equal sizes keep the centres' order
numbered as (

    select
        extract,
        centre_index,
        -- bigint on every engine (Spark's row numbers are int)
        cast(row_number() over (partition by extract order by count(*) desc, centre_index) as bigint) as cluster_id

    from nearest
    group by extract, centre_index

),

final as (

    select
        nearest.extract,
        nearest.customer_key,
        numbered.cluster_id

    from nearest
    inner join numbered
        on
            nearest.extract = numbered.extract
            and nearest.centre_index = numbered.centre_index

)

select * from final
