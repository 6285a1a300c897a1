-- Audiences: who belongs on which Mailjet list. Each audience is one view, under a header saying where
-- it goes. `mailjet-elt plan` builds them, tests their rows and diffs them against the lists;
-- `mailjet-elt apply` sends the changes. Edit it, or copy it to an account's folder, to start yours.
--
--   -- audience: NAME        the view is audience_NAME (lowercase letters, digits, underscores)
--   -- list: NAME_OR_ID      the Mailjet list it feeds (created by apply when missing)
--   -- permission: NAME      the consent the list needs (optional): only people whose latest consent
--                            event for it is a grant are added; a withdrawal unsubscribes them
--   -- on_exit: keep         what happens to people this audience added when they leave it:
--                            keep (default), remove (from the list) or unsub (from the list)
--   -- properties: a, b      columns pushed as Mailjet contact properties (null values never are)
--
-- The views read the `mailjet` views (contacts, list_recipients, ...), your CRM tables (`crm.profiles`,
-- `crm.consent_events`, loaded with `mailjet-elt load`) and the consent ledger: `consent_ledger` (every
-- consent event: CRM, Mailjet list state, imported files, webhooks) and `consent_current` (the latest
-- event per email and permission). Unqualified names are read from `mailjet`, or from `mailjet_sync`
-- for the consent views. Before any diff, people excluded from campaigns, spam complainers, hard
-- bounces and anyone unsubscribed from the list are taken out; nobody unsubscribed is ever re-added.

-- audience: newsletter
-- list: Newsletter
-- permission: email_newsletter
-- on_exit: unsub
-- properties: firstname, country
create or replace view audience_newsletter as
select k.email, p.firstname, p.country
from mailjet_sync.consent_current k
left join (
    select mailjet_sync.norm(email) as email, firstname, country from crm.profiles
) p on p.email = k.email
where k.permission = 'email_newsletter' and k.granted

-- audience: service
-- list: Service messages
-- permission: email_service
-- on_exit: keep
-- properties: firstname
create or replace view audience_service as
select k.email, p.firstname
from mailjet_sync.consent_current k
join (select mailjet_sync.norm(email) as email, firstname from crm.profiles) p on p.email = k.email
where k.permission = 'email_service' and k.granted
