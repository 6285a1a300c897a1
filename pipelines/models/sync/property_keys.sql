-- The key a contact property's value is compared by (the audience's against Mailjet's, both as text), for
-- the Mailjet datatype of the property: a number by its value (`42.0` and `42` are one key), a boolean as
-- true/false whatever its spelling (`True`, `t`, `1`), a date and time as Unix seconds whatever its
-- spelling (RFC 3339; ISO 8601 with an offset, or without one, read as UTC; Unix seconds). Text is compared
-- as it is, and so is a value its datatype cannot read. Written for the value `p_0` of a relation `_values`;
-- the engine takes the term of the property's datatype and puts each side's value in it.
select
    case
        when regexp_matches(trim(p_0), '^([-+]|)([0-9]+([.][0-9]*|)|[.][0-9]+)([eE]([-+]|)[0-9]+|)$')
            then cast(cast(trim(p_0) as double) as varchar)
        else p_0
    end as number,
    case
        when lower(trim(p_0)) in ('true', 't', '1', 'yes', 'y') then 'true'
        when lower(trim(p_0)) in ('false', 'f', '0', 'no', 'n') then 'false'
        else p_0
    end as bool,
    case
        when regexp_matches(trim(p_0), '^[0-9]+([.][0-9]+|)$')
            then cast(cast(floor(cast(trim(p_0) as double)) as bigint) as varchar)
        when regexp_matches(
            trim(p_0),
            '^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][T ][0-9][0-9]:[0-9][0-9](:[0-9][0-9]([.][0-9]+|)|)'
            || '( |)(Z|[-+][0-9][0-9]((:|)[0-9][0-9]|))$'
        )
            then cast(cast(floor(epoch(cast(trim(p_0) as timestamp with time zone))) as bigint) as varchar)
        when regexp_matches(
            trim(p_0), '^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]([T ][0-9][0-9]:[0-9][0-9](:[0-9][0-9]([.][0-9]+|)|)|)$'
        )
            then cast(cast(floor(epoch(cast(trim(p_0) as timestamp))) as bigint) as varchar)
        else p_0
    end as datetime
from _values
