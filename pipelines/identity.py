"""One contact per email, one list per name, one membership per (contact, list), whatever the source.

Contacts and lists known only from a CSV file carry negative ids (`sources/mailjet_csv`). Once Mailjet's
API brings a contact with the same email (case-insensitive) or a list with the same name, the file's
rows move to Mailjet's id and the CSV-only row goes. Where both sources describe the same thing, the API
row wins (it is Mailjet's live state; a file is a snapshot); between two imports, the later one wins.
Runs after every import and every extract, in SQL portable to any SQL destination."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.destinations.sql_client import SqlClientBase
from dlt.pipeline.pipeline import Pipeline

from sources.mailjet.schema import EXTRACTED_AT_COLUMN, SOURCE_COLUMN


@dataclass(frozen=True)
class Merged:
    """What `merge_identities` changed."""

    contacts: int
    lists: int
    memberships_dropped: int
    orphans_removed: int = 0  # file rows of contacts Mailjet has deleted


def merge_identities(pipeline: Pipeline) -> Merged:
    """Move CSV-only contacts and lists onto the Mailjet ones of the same email/name; drop memberships
    another row already states. One transaction: a crash leaves the tables as they were."""
    src, at = SOURCE_COLUMN, EXTRACTED_AT_COLUMN
    with pipeline.sql_client() as client:
        names = ("contacts", "contact_lists", "list_recipients", "contact_properties")
        present = {n: client.make_qualified_table_name(n) for n in names}
        present = {n: q for n, q in present.items() if _exists(client, q)}
        if "contacts" not in present:
            return Merged(0, 0, 0)
        contacts = present["contacts"]
        lists, members, props = (present.get(n) for n in names[1:])
        contact_map = (
            f"with m as (select c.id as csv_id, min(a.id) as api_id from {contacts} c "
            f"join {contacts} a on lower(a.email) = lower(c.email) and a.id > 0 "
            "where c.id < 0 group by c.id)"
        )
        list_map = (
            # The Mailjet list of that name, a live one before a deleted one.
            f"with named as (select c.id as csv_id, a.id, a.name, row_number() over (partition by c.id "
            "order by coalesce(a.is_deleted, false), a.id) as n "
            f"from {lists} c join {lists} a on lower(a.name) = lower(c.name) and a.id > 0 where c.id < 0), "
            "m as (select csv_id, id as api_id, name as api_name from named where n = 1)"
        )
        with client.begin_transaction():
            moved_lists = _count(client, f"{list_map} select count(*) from m") if lists else 0
            if moved_lists:
                if members:
                    client.execute_sql(
                        f"{list_map} update {members} set list_id = m.api_id, list_name = m.api_name "
                        f"from m where {members}.list_id = m.csv_id"
                    )
                client.execute_sql(f"{list_map} delete from {lists} where id in (select csv_id from m)")
            moved_contacts = _count(client, f"{contact_map} select count(*) from m")
            if moved_contacts:
                if props:
                    # A newer import replaces an older import's value; an API value is never replaced.
                    client.execute_sql(
                        f"{contact_map} delete from {props} where {src} <> 'api' and exists ("
                        f"select 1 from {props} s join m on s.contact_id = m.csv_id "
                        f"where m.api_id = {props}.contact_id and s.name = {props}.name)"
                    )
                    client.execute_sql(
                        f"{contact_map} delete from {props} where exists ("
                        f"select 1 from m join {props} t on t.contact_id = m.api_id "
                        f"where m.csv_id = {props}.contact_id and t.name = {props}.name)"
                    )
                    client.execute_sql(
                        f"{contact_map} update {props} set contact_id = m.api_id "
                        f"from m where {props}.contact_id = m.csv_id"
                    )
                if members:
                    client.execute_sql(
                        f"{contact_map} update {members} set contact_id = m.api_id from m "
                        f"where {members}.contact_id = m.csv_id"
                    )
                client.execute_sql(f"{contact_map} delete from {contacts} where id in (select csv_id from m)")
            dropped = 0
            if members:
                # One membership per (contact, list): the API's row, else the latest import's.
                same = f"o.contact_id = {members}.contact_id and o.list_id = {members}.list_id"
                newer = (
                    f"o.{src} = 'api' or (o.{at} > {members}.{at} "
                    f"or (o.{at} = {members}.{at} and o.id > {members}.id))"
                )
                dropped = _delete(
                    client,
                    members,
                    f"{src} <> 'api' and exists (select 1 from {members} o where {same} and ({newer}))",
                )
                if lists:
                    # Memberships recorded under a list ID take the list's name once the list is known.
                    client.execute_sql(
                        f"update {members} set list_name = l.name from {lists} l "
                        f"where {members}.list_id = l.id and {members}.{src} <> 'api' and l.name is not null "
                        f"and ({members}.list_name is null or {members}.list_name <> l.name)"
                    )
            # A contact Mailjet deleted (and the extract removed) takes the file rows attached to it along:
            # its data must not outlive it here.
            gone = f"{src} <> 'api' and contact_id > 0 and contact_id not in (select id from {contacts})"
            orphans = sum(_delete(client, table, gone) for table in (props, members) if table)
    return Merged(moved_contacts, moved_lists, dropped, orphans)


def _delete(client: SqlClientBase[Any], table: str, condition: str) -> int:
    """Delete the rows of `table` meeting `condition`; how many there were."""
    count = _count(client, f"select count(*) from {table} where {condition}")
    if count:
        client.execute_sql(f"delete from {table} where {condition}")
    return count


def _count(client: SqlClientBase[Any], sql: str) -> int:
    rows = client.execute_sql(sql)
    return int(rows[0][0]) if rows else 0


def _exists(client: SqlClientBase[Any], qualified: str) -> bool:
    try:
        client.execute_sql(f"select 1 from {qualified} limit 1")
    except DatabaseUndefinedRelation:
        return False
    return True
