"""`mailjet-elt demo`: a seeded sandbox in-process, toured over real HTTP with the project's client."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import duckdb

from pipelines.config import MailjetConfiguration
from pipelines.errors import CommandError
from pipelines.extract import extract
from pipelines.import_csv import import_csv
from pipelines.report import text
from sandbox import SandboxApp, SandboxConfig
from sources.mailjet.client import MailjetHttp
from sources.mailjet.exceptions import MailjetError

DEMO_DB = "demo_mailjet_elt.duckdb"
DEMO_EXPORT = "demo_export.csv"
LIST_QUERY = """
select l.name, count(*) filter (where not r.is_unsubscribed), count(*) filter (where r.is_unsubscribed)
from mailjet.list_recipients r join mailjet.contact_lists l on l.id = r.list_id
group by l.name order by l.name
"""


def run_demo(contacts: int = 2000) -> int:
    """Start a sandbox, show its lists, subscribe through a bulk job, read the result back."""
    started = time.perf_counter()
    with SandboxApp(SandboxConfig(contacts=contacts, job_seconds=1.0)) as sandbox:
        client = MailjetHttp.from_config(_config(sandbox))
        try:
            return _tour(sandbox, client, started)
        except (MailjetError, CommandError) as exc:
            print(f"demo failed: {exc}")
            return 1
        finally:
            client.close()


def _tour(sandbox: SandboxApp, client: MailjetHttp, started: float) -> int:
    print(f"Local Mailjet sandbox on {sandbox.base_url} — seeded with {contacts_of(client):,} contacts.\n")

    lists = client.get("contactslist", {"Limit": 1000, "Sort": "ID"})
    print("Contact lists (GET /v3/REST/contactslist):")
    for row in lists:
        print(f"  {row['ID']:>6}  {row['Name']:<18} {row['SubscriberCount']:>6,} subscribed")
    newsletter = next(row for row in lists if row["Name"] == "Newsletter")
    list_id = newsletter["ID"]

    unsubscribed = client.get("listrecipient", {"ContactsList": list_id, "Unsub": "true", "Limit": 1})
    opted_out = client.get(f"contact/{unsubscribed[0]['ContactID']}")[0]["Email"]
    newcomers = ["ada.lovelace@example.com", "alan.turing@example.com"]
    print(
        f"\nSubscribing {len(newcomers)} new people to Newsletter with one bulk job (action addnoforce),\n"
        f"plus {opted_out}, who unsubscribed from that list earlier:"
    )
    bulk = f"contactslist/{list_id}/managemanycontacts"
    job_id = client.start_job(
        bulk,
        {
            "Action": "addnoforce",
            "Contacts": [{"Email": e, "Properties": {"country": "GB"}} for e in newcomers]
            + [{"Email": opted_out}],
        },
    )
    job = client.wait_for_job(bulk, job_id).raise_if_failed()
    print(f"  job {job_id}: {' -> '.join(job.statuses)} ({job.job['Count']} contacts processed)")
    for refused in job.errors:
        print(f"  refused: {refused.get('Email')}: {refused.get('Error')}")

    print("\nMemberships read back (GET /v3/REST/listrecipient?ContactEmail=...):")
    for email in [*newcomers, opted_out]:
        rows = [r for r in client.get("listrecipient", {"ContactEmail": email}) if r["ListID"] == list_id]
        state = "unsubscribed (addnoforce kept the opt-out)" if rows[0]["IsUnsubscribed"] else "subscribed"
        print(f"  {email:<44} {state}")

    after = client.get(f"contactslist/{list_id}")[0]["SubscriberCount"]
    counts = sandbox.admin.summary()
    print(
        f"\nNewsletter now has {after:,} subscribers (was {newsletter['SubscriberCount']:,}).\n"
        f"The sandbox also holds {counts['campaigns']:,} campaigns, {counts['messages']:,} messages, "
        f"{counts['openinformation']:,} opens, {counts['clickstatistics']:,} clicks and "
        f"{counts['bouncestatistics']:,} bounces over two years.\n"
        f"Requests served: {sum(sandbox.dispatcher.counts.values())}. "
        f"Demo took {time.perf_counter() - started:.1f} s.\n"
    )
    _extract(sandbox)
    _import_csv(Path(DEMO_DB))
    print(
        "\nTry it yourself: `mailjet-elt sandbox` serves the same API on 127.0.0.1:8765;\n"
        "any Mailjet client works against it (Basic auth sandbox-api-key / sandbox-api-secret), and\n"
        "`mailjet-elt extract` reads it (or your real account) into DuckDB; `mailjet-elt import-csv`\n"
        "adds CSV exports to the same tables. Coming next: audiences, `plan`/`apply`."
    )
    return 0


def _extract(sandbox: SandboxApp) -> None:
    """Extract the sandbox into a DuckDB file and answer one analyst question from it."""
    db = Path(DEMO_DB)
    # The demo's database belongs to this sandbox only: start it afresh on every demo.
    db.unlink(missing_ok=True)
    shutil.rmtree(db.with_name(f".{db.name}.dlt"), ignore_errors=True)
    print(f"\nExtracting the whole account into {db} (mailjet-elt --db {db} extract):")
    print(text(extract(db=str(db), config=_config(sandbox))))
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.sql(LIST_QUERY).fetchall()
    shown = "\n    ".join(LIST_QUERY.strip().splitlines())
    print(f"\nSubscribed and unsubscribed members per list, from DuckDB:\n    {shown}")
    for name, subscribed, unsubscribed in rows:
        print(f"  {name:<18} {subscribed:>7,} subscribed {unsubscribed:>6,} unsubscribed")


def _import_csv(db: Path) -> None:
    """Import a small hand-made export into the same tables and show it joins the API's rows."""
    with duckdb.connect(str(db), read_only=True) as con:
        member = con.sql(
            "select c.email from mailjet.list_recipients r join mailjet.contacts c on c.id = r.contact_id "
            "join mailjet.contact_lists l on l.id = r.list_id "
            "where l.name = 'Newsletter' and not r.is_unsubscribed order by c.id limit 1"
        ).fetchall()[0][0]
    export = Path(DEMO_EXPORT)
    # As a spreadsheet saves it: UTF-8 with a byte-order mark, semicolons, CRLF, TRUE/FALSE.
    export.write_text(
        "Email;First Name;Country;VIP;Status\r\n"
        f"{member.upper()};Already;FR;TRUE;subscribed\r\n"
        "grace.hopper@example.com;Grace;US;FALSE;subscribed\r\n"
        "not-an-address;Nobody;;;subscribed\r\n"
        "Grace.Hopper@example.com;Grace again;US;FALSE;subscribed\r\n",
        encoding="utf-8-sig",
        newline="",
    )
    print(
        f"\nImporting a CSV export, {export} (mailjet-elt --db {db} import-csv {export} --list Newsletter):"
    )
    print(text(import_csv(db=str(db), files=[str(export)], list_ref="Newsletter", progress=False)))
    print(
        f"  {member} was already a Mailjet contact: the file's properties joined that contact,\n"
        "  grace.hopper@example.com is new, the bad address and the duplicate are in mailjet.csv_rejections."
    )
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.sql(LIST_QUERY).fetchall()
        from_api, from_file = con.sql(
            "select count(*) filter (where _source = 'api'), count(*) filter (where _source <> 'api') "
            "from mailjet.contacts"
        ).fetchall()[0]
    print(
        f"  mailjet.contacts: {from_api:,} from Mailjet + {from_file:,} only in the file (one contact per "
        "email; the raw rows stay apart in mailjet_api and mailjet_csv)"
    )
    for name, subscribed, unsubscribed in rows:
        if name == "Newsletter":
            print(f"  {name:<18} {subscribed:>7,} subscribed {unsubscribed:>6,} unsubscribed (API and CSV)")


def contacts_of(client: MailjetHttp) -> int:
    """Total contacts, via countOnly."""
    return client.count("contact")


def _config(sandbox: SandboxApp) -> MailjetConfiguration:
    """`[mailjet]` for this sandbox."""
    return MailjetConfiguration(
        api_key=sandbox.config.api_key, api_secret=sandbox.config.api_secret, base_url=sandbox.base_url
    )
