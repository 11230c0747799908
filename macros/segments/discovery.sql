{#-
    The features segment discovery combines (one, two or three at a time):
    categories and bands of `customers`, each as text.
-#}
{% macro discovery_features() -%}
    {{ return(var('features')['categorical']) }}
{%- endmacro %}

{#- Every combination of one to `max_size` items of `items`, in order, as lists. -#}
{% macro combinations_up_to(items, max_size) -%}
    {%- set result = [] -%}
    {%- for i in range(items | length) -%}
        {%- do result.append([items[i]]) -%}
        {%- if max_size >= 2 -%}
            {%- for j in range(i + 1, items | length) -%}
                {%- do result.append([items[i], items[j]]) -%}
                {%- if max_size >= 3 -%}
                    {%- for k in range(j + 1, items | length) -%}
                        {%- do result.append([items[i], items[j], items[k]]) -%}
                    {%- endfor -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(result) }}
{%- endmacro %}

{#-
    Every combination of one to `max_size` items (as combinations_up_to), each placed in a block: a few
    items whose cells, added up to those items first, hold every combination placed there. The items are
    paired in their order, and a block is `max_size` pairs together (every item when there are fewer
    pairs), so any combination lies in some block; each goes to the first that holds it. A block lists only
    the items its combinations use, in the items' order. Returns a list of {'features': [...],
    'combinations': [[...], ...]}, blocks without combinations left out.
-#}
{% macro combinations_in_blocks(items, max_size) -%}
    {%- set pairs = [] -%}
    {%- for i in range(0, items | length, 2) -%}
        {%- do pairs.append(items[i:i + 2]) -%}
    {%- endfor -%}
    {%- set size = [max_size, pairs | length] | min -%}
    {%- set blocks = [] -%}
    {%- for chosen in combinations_up_to(range(pairs | length) | list, size) if chosen | length == size -%}
        {%- set members = [] -%}
        {%- for index in chosen -%}
            {%- do members.extend(pairs[index]) -%}
        {%- endfor -%}
        {%- do blocks.append({'members': members, 'combinations': []}) -%}
    {%- endfor -%}
    {%- for combination in combinations_up_to(items, max_size) -%}
        {%- for block in blocks if combination | reject('in', block.members) | list | length == 0 -%}
            {%- if loop.first -%}
                {%- do block.combinations.append(combination) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set result = [] -%}
    {%- for block in blocks if block.combinations -%}
        {%- set used = [] -%}
        {%- for item in items -%}
            {%- for combination in block.combinations if item in combination -%}
                {%- if loop.first -%}
                    {%- do used.append(item) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- do result.append({'features': used, 'combinations': block.combinations}) -%}
    {%- endfor -%}
    {{ return(result) }}
{%- endmacro %}
