"""`mailjet-elt demo`: the whole loop against a seeded sandbox started in-process, each step the command of
the same name: extract the account into DuckDB (or the database of `--destination`), import a CSV export
beside it, load CRM data that overlaps
the sandbox's contacts, plan the shipped audiences, apply the plan to the sandbox's lists, extract again to
see Mailjet's side, plan once more (nothing is left to do), report what is where, and write the HTML
report of the models."""

from __future__ import annotations

import csv
import random
import shutil
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipelines.apply import apply
from pipelines.errors import CommandError
from pipelines.extract import extract
from pipelines.import_csv import import_csv
from pipelines.load import load
from pipelines.plan import plan
from pipelines.report import program, text
from pipelines.report_html import describe, write_report
from pipelines.report_html.library import script
from pipelines.sql import table
from pipelines.sync.audiences import SHIPPED_AUDIENCES
from pipelines.warehouse import API_DATASET, open_pipeline, pipelines_dir
from pipelines.warehouse.catalog import relations
from pipelines.warehouse.paths import is_duckdb_file
from sandbox import SandboxApp, SandboxConfig
from sources.mailjet.client import MailjetHttp
from sources.mailjet.config import MailjetConfiguration
from sources.mailjet.exceptions import MailjetError

DEMO_DB = "demo_mailjet_elt.duckdb"
DEMO_EXPORT = "demo_export.csv"
DEMO_CRM = "demo_crm"
DEMO_REPORT = "demo_report.html"
STEPS = 8
REPORTED_DATASETS = ("crm", "mailjet", "mailjet_sync")  # the report's rows per table
# Shares of the sandbox's contacts the demo CRM knows, and what it says about them.
IN_CRM = 0.7  # have a CRM profile
NEW_PEOPLE = 0.06  # CRM profiles Mailjet has never seen (a share of the sandbox's contacts)
NEWSLETTER_YES = 0.8  # of profiles: granted the newsletter
WITHDREW = 0.06  # of profiles: granted it, then withdrew recently
SERVICE_YES = 0.45  # of profiles: granted service messages
MOVED = 0.1  # of profiles: the CRM knows a newer country than Mailjet
SPAM_REPORTS = 4  # messages the sandbox marks as reported as spam before the tour
MESSY = 0.04  # of profiles: the CRM spells the address in capitals, or with spaces around it

QUERIES = (
    (
        "Campaign performance: the latest campaigns, with open and click rates",
        "select c.subject, s.message_sent_count as sent,\n"
        "       round(100.0 * s.message_opened_count / nullif(s.message_sent_count, 0), 1) as open_pct,\n"
        "       round(100.0 * s.message_clicked_count / nullif(s.message_sent_count, 0), 1) as click_pct\n"
        "from mailjet.campaigns c join mailjet.campaign_stats s on s.campaign_id = c.id\n"
        "order by c.send_start_at desc limit 5",
    ),
    (
        "What the sync changed in Mailjet, and why",
        "select audience, action, reason, outcome, count(*) as contacts\n"
        "from mailjet_sync.sync_changelog group by 1, 2, 3, 4 order by 1, 2, 3, 4",
    ),
    (
        "Consent now, per permission and where it came from",
        "select permission, source, granted, count(*) as people\n"
        "from mailjet_sync.consent_current group by 1, 2, 3 order by 1, 2, 3",
    ),
)


Query = Callable[[str], tuple[list[str], list[tuple[Any, ...]]]]


def run_demo(contacts: int = 2000, destination: str | None = None) -> int:
    """Start a sandbox and run the whole loop against it, into the demo's DuckDB file or, with
    `destination`, the database dlt is configured for; 0 when every step worked."""
    started = time.perf_counter()
    destination = None if destination == "duckdb" else destination
    db = Path(DEMO_DB)
    if destination is not None:
        open_pipeline(str(db), destination, API_DATASET)  # refuses a destination without SQL, at once
    if is_duckdb_file(destination):
        # The demo's DuckDB file belongs to this sandbox only: start it afresh on every demo. Another
        # destination is the user's own database: nothing in it is ever deleted.
        db.unlink(missing_ok=True)
        shutil.rmtree(pipelines_dir(str(db), destination), ignore_errors=True)
    script()  # the report's chart library, which the last step needs: a missing one is said at once
    with SandboxApp(SandboxConfig(contacts=contacts, job_seconds=0.5)) as sandbox:
        sandbox.admin.engagement({"spam": SPAM_REPORTS, "seed": 7})  # a few complaints, as an account has
        config = _config(sandbox)
        client = MailjetHttp.from_config(config)
        try:
            _intro(sandbox, client)
        except MailjetError as exc:
            print(f"demo failed: {exc}")
            return 1
        finally:
            client.close()
        try:
            return _loop(sandbox, config, {"db": str(db), "destination": destination}, started)
        except CommandError as exc:
            print(f"demo failed: {exc}")
            return 1


def _intro(sandbox: SandboxApp, client: MailjetHttp) -> None:
    lists = client.get("contactslist", {"Limit": 1000, "Sort": "ID"})
    counts = sandbox.admin.summary()
    print(
        f"A local Mailjet sandbox is serving on {sandbox.base_url}, seeded with {client.count('contact'):,} "
        f"contacts, {counts['campaigns']:,} campaigns, {counts['messages']:,} messages, "
        f"{counts['openinformation']:,} opens and {counts['clickstatistics']:,} clicks over two years, "
        "and these lists:"
    )
    for row in lists:
        print(f"  {row['ID']:>6}  {row['Name']:<18} {row['SubscriberCount']:>6,} subscribed")


def _loop(sandbox: SandboxApp, config: MailjetConfiguration, where: dict[str, Any], started: float) -> int:
    at = _flags(where)
    into = "DuckDB" if where["destination"] is None else f"the {where['destination']} database"
    _step(1, f"extract the whole account into {into}", f"{program()} {at} extract")
    print(text(extract(config=config, **where)))

    export = _write_export(where)
    _step(2, "import a CSV export beside it", f"{program()} {at} import-csv {export} --list Newsletter")
    print(text(import_csv(files=[str(export)], list_ref="Newsletter", progress=False, **where)))
    print(
        "  the export's first row is a Mailjet contact already, in capitals: its properties joined that\n"
        "  contact; the bad address and the duplicate are in mailjet.csv_rejections."
    )

    profiles, consent, story = _write_crm(where)
    loading = f"{program()} {at} load {profiles} --table profiles"
    _step(3, "load CRM data: profiles and consent events", loading)
    print(story)
    print(text(load(file=str(profiles), table="profiles", **where)))
    print(f"  (and: {program()} {at} load {consent} --table consent_events)")
    print(text(load(file=str(consent), table="consent_events", **where)))

    _step(4, "plan the audiences of the shipped audiences.sql", f"{program()} {at} plan")
    print(text(plan(audiences=str(SHIPPED_AUDIENCES), **where)))

    _step(5, "apply the plan to the sandbox's lists", f"{program()} {at} apply --yes")
    applied = apply(audiences=str(SHIPPED_AUDIENCES), yes=True, config=config, **where)
    print(text(applied))

    _step(6, "extract again: Mailjet's lists as they are now", f"{program()} {at} extract")
    again = extract(config=config, **where)
    print(
        f"{sum(t.rows for t in again.tables):,} rows read with {again.requests:,} requests in "
        f"{again.seconds:.1f} s (incremental where the API allows)"
    )

    _step(7, "plan again: nothing should be left to do", f"{program()} {at} plan")
    replanned = plan(audiences=str(SHIPPED_AUDIENCES), **where)
    left = {p.audience: sum(sum(r.values()) for r in p.actions.values()) for p in replanned.plans}
    print(", ".join(f"{name}: {n:,} change{'' if n == 1 else 's'}" for name, n in left.items()))

    _report(where, sandbox)
    _html_report(where, started)
    return 0 if applied.exit_code == 0 and not any(left.values()) else 1


def _flags(where: dict[str, Any]) -> str:
    """The global option that names the demo's database on a command line."""
    return f"--db {where['db']}" if where["destination"] is None else f"--destination {where['destination']}"


@contextmanager
def _reading(where: dict[str, Any]) -> Iterator[Query]:
    """Queries on the demo's database, through dlt's SQL client (DuckDB's file or any destination's)."""
    pipeline = open_pipeline(where["db"], where["destination"], API_DATASET)
    with pipeline.sql_client() as client:

        def query(sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
            with client.execute_query(sql) as cursor:
                description = cursor.native_cursor.description
                return [str(d[0]) for d in description or []], [tuple(r) for r in cursor.fetchall()]

        yield query


def _tables(where: dict[str, Any]) -> list[tuple[str, str]]:
    """(dataset, table) of the tables and views the report counts, read from the database's catalog
    through dlt's SQL client; dlt's own tables (`_dlt_*`) left out."""
    pipeline = open_pipeline(where["db"], where["destination"], API_DATASET)
    with pipeline.sql_client() as client:
        return sorted(
            (dataset, name)
            for dataset in REPORTED_DATASETS
            for name in relations(client, dataset)
            if not name.startswith("_")
        )


def _step(number: int, what: str, command: str) -> None:
    print(f"\n== {number}/{STEPS} {what}\n$ {command}")


def _write_export(where: dict[str, Any]) -> Path:
    """A small hand-made export, as a spreadsheet saves it: UTF-8 with a byte-order mark, semicolons, CRLF,
    TRUE/FALSE; one row is a Mailjet contact already, one address is bad, one row is a duplicate."""
    with _reading(where) as query:
        member = query(
            "select c.email from mailjet.list_recipients r join mailjet.contacts c on c.id = r.contact_id "
            "join mailjet.contact_lists l on l.id = r.list_id "
            "where l.name = 'Newsletter' and not r.is_unsubscribed order by c.id limit 1"
        )[1][0][0]
    export = Path(DEMO_EXPORT)
    export.write_text(
        "Email;First Name;Country;VIP;Status\r\n"
        f"{member.upper()};Already;FR;TRUE;subscribed\r\n"
        "grace.hopper@example.com;Grace;US;FALSE;subscribed\r\n"
        "not-an-address;Nobody;;;subscribed\r\n"
        "Grace.Hopper@example.com;Grace again;US;FALSE;subscribed\r\n",
        encoding="utf-8-sig",
        newline="",
    )
    return export


def _write_crm(where: dict[str, Any]) -> tuple[Path, Path, str]:
    """CRM files made from the extracted contacts, the way a real CRM overlaps a Mailjet account: most
    contacts have a profile, some profiles are people Mailjet has never seen, most gave newsletter
    consent and a few withdrew it lately, some addresses are spelled differently, a few rows are bad."""
    with _reading(where) as query:
        _, people = query(
            "select c.email, max(p.value) filter (where p.name = 'firstname'), "
            "max(p.value) filter (where p.name = 'country') from mailjet.contacts c "
            "left join mailjet.contact_properties p on p.contact_id = c.id "
            "where c._source = 'api' group by c.id, c.email order by c.id"
        )
    rng = random.Random(7)
    now = datetime.now(UTC).replace(microsecond=0)
    known = [p for p in people if rng.random() < IN_CRM]
    new = [
        (f"new.customer.{i + 1}@shop.example.com", f"New{i + 1}", rng.choice(("FR", "DE", "NL", "ES")))
        for i in range(max(1, round(len(people) * NEW_PEOPLE)))
    ]
    profiles: list[tuple[str, str | None, str | None]] = []
    events: list[tuple[str, str, str, str, str]] = []
    moved = messy = withdrew = 0

    def at(days_ago: float) -> str:
        return (now - timedelta(days=days_ago)).isoformat().replace("+00:00", "Z")

    for email, firstname, mailjet_country in [*known, *new]:
        country = mailjet_country
        spelled = str(email)
        if rng.random() < MESSY:
            spelled = spelled.upper() if rng.random() < 0.5 else f"  {spelled} "
            messy += 1
        if rng.random() < MOVED:
            country = rng.choice([c for c in ("FR", "DE", "ES", "IT", "NL", "BE") if c != country])
            moved += 1
        profiles.append((spelled, firstname, country))
        if rng.random() < NEWSLETTER_YES:
            events.append((email, "email_newsletter", "yes", at(rng.uniform(400, 700)), "signup_form"))
            if rng.random() < WITHDREW:
                when = at(rng.uniform(0.5, 20))
                events.append((email, "email_newsletter", "no", when, "preference_center"))
                withdrew += 1
        if rng.random() < SERVICE_YES:
            events.append((email, "email_service", "yes", at(rng.uniform(30, 700)), "checkout"))
    # What a real CRM also holds: two profiles for one person, and addresses nobody can send to.
    profiles.append((str(known[0][0]).upper(), "Duplicate", "FR"))
    for bad in ("not-an-address", "someone@"):
        profiles.append((bad, "Bad", None))
        events.append((bad, "email_newsletter", "yes", at(30), "signup_form"))
    folder = Path(DEMO_CRM)
    folder.mkdir(exist_ok=True)
    profiles_file, consent_file = folder / "profiles.csv", folder / "consent_events.csv"
    with profiles_file.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(("email", "firstname", "country"))
        writer.writerows(profiles)
    with consent_file.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(("email", "permission", "granted", "at", "source"))
        writer.writerows(events)
    story = (
        f"{len(profiles):,} profiles: {len(known):,} of the {len(people):,} Mailjet contacts, "
        f"{len(new):,} people Mailjet has never seen, {moved:,} with a newer country than Mailjet's,\n"
        f"{messy:,} addresses spelled in capitals or with spaces, one person twice and two bad addresses.\n"
        f"{len(events):,} consent events: newsletter and service-message grants; {withdrew:,} people "
        "withdrew their newsletter consent in the last three weeks."
    )
    return profiles_file, consent_file, story


def _report(where: dict[str, Any], sandbox: SandboxApp) -> None:
    with _reading(where) as query:
        tables = _tables(where)
        sizes = [(f"{s}.{t}", int(query(f'select count(*) from "{s}"."{t}"')[1][0][0])) for s, t in tables]
        _, runs = query(
            "select audience, run_id, status, list_name, mismatches from mailjet_sync.sync_runs r "
            "where run_id = (select max(run_id) from mailjet_sync.sync_runs x where x.audience = r.audience "
            "and x.applied_at is not null) order by audience"
        )
        _, planned = query(
            "select p.audience, p.action, p.reason, count(*) from mailjet_sync.sync_plan p join "
            "mailjet_sync.sync_runs r using (run_id) where r.applied_at is not null "
            "group by 1, 2, 3 order by 1, 2, 3"
        )
        jobs = query(
            "select count(distinct job_id), count(*) filter (where outcome = 'done'), "
            "count(*) filter (where outcome <> 'done') from mailjet_sync.sync_changelog"
        )[1][0]
        shown = [(title, sql, *query(sql)) for title, sql in QUERIES]
    print("\n== Report")
    print(f"The database: {where_it_is(where)}")
    print("Rows per table (the mailjet views, your CRM tables, the sync's tables):")
    width = max(len(name) for name, _ in sizes)
    for name, n in sizes:
        print(f"  {name:<{width}} {n:>9,}")
    print("The plan that was applied, per audience, action and reason:")
    for audience, action, reason, n in planned:
        print(f"  {audience:<12} {action:<11} {reason:<22} {n:>7,}")
    print(
        f"Jobs: {jobs[0]:,} bulk jobs confirmed {jobs[1]:,} changes; {jobs[2]:,} were refused or failed "
        "(mailjet_sync.sync_changelog, mailjet_sync.sync_rejections)."
    )
    for audience, run_id, status, list_name, mismatches in runs:
        verdict = "every confirmed change is there" if not mismatches else f"{mismatches:,} NOT as planned"
        print(f'Verification: {audience} (run {run_id}, {status}): list "{list_name}" read again: {verdict}.')
    prompt = f"{program()} {_flags(where)} sql"
    print(f'\nThree queries to try, each with {prompt} "QUERY" (or {prompt} alone, for a prompt):')
    for title, sql, columns, rows in shown:
        print(f"\n-- {title}\n{sql};")
        print(textwrap.indent(table(columns, rows), "  "))
    print(f"\nRequests the sandbox served: {sum(sandbox.dispatcher.counts.values()):,}.")


def _html_report(where: dict[str, Any], started: float) -> None:
    out = Path(DEMO_REPORT)
    command = f"{program()} {_flags(where)} report --out {DEMO_REPORT}"
    _step(STEPS, "write the report: the models' charts and figures, one HTML file", command)
    written = write_report(out=str(out), **where)
    print(describe(written))
    print(
        f"Open it in a browser: {out.resolve().as_uri()}\n"
        f"\nThe demo took {time.perf_counter() - started:.1f} s. "
        f'Next: README.md, "Try it by hand": `{program()} sandbox` serves the same API on 127.0.0.1:8765,\n'
        'and you run each step yourself; then its "Production checklist": your account\'s folder and '
        f"key,\nand `{program()} run --yes` (extract, plan and apply) on a schedule."
    )


def where_it_is(where: dict[str, Any]) -> str:
    """The demo's database, as the report names it."""
    if where["destination"] is None:
        return str(Path(where["db"]).resolve())
    return f"the {where['destination']} database dlt is configured for (--destination {where['destination']})"


def _config(sandbox: SandboxApp) -> MailjetConfiguration:
    """`[mailjet]` for this sandbox."""
    return MailjetConfiguration(
        api_key=sandbox.config.api_key, api_secret=sandbox.config.api_secret, base_url=sandbox.base_url
    )
