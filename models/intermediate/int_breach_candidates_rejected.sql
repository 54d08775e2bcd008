{#-
    Every breach candidate that could not be used, with the reason and the raw
    JSON element, for analysts checking what a figure left out and why. The
    SLA fact's metadata counts these per window (breachCandidatesRejected).
-#}
with

candidates as (

    select
        fact_id,
        element_index,
        shop_domain,
        candidate_source,
        rejection_reason,
        rejected_element,
        fact_created_at
    from {{ ref('int_breach_candidates_remembered') }}
    where not is_usable

),

final as (

    select * from candidates

)

select * from final
