-- `mailjet-elt explain`: every time the person was left out of a plan or refused by Mailjet
-- (`mailjet_sync.sync_rejections`: a failed data test, held back by a rule, refused by a job), oldest first.
-- Parameter: the email.
with

final as (
    select j.run_id, j."at", j.audience, j.list_id, j.stage, j.reason, j.detail
    from mailjet_sync.sync_rejections as j
    where mailjet_sync.norm(j.email) = mailjet_sync.norm(?)
)

select * from final
order by "at", run_id, audience
