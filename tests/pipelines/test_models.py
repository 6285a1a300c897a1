"""The analysts' models (`mailjet_models`) against a seeded sandbox after one extract, shared by the module:
each figure equals what the sandbox itself counts or holds — its statcounters per campaign, the
memberships it lists, the bounces it served, the opens and clicks it lists. No plan has run on this
database: the models reading the sync's audit trail publish all the same, empty (`sync_history` after a
plan and an apply: tests/sync/test_history_model.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.extract import extract
from pipelines.warehouse.publish import model_names
from tests.conftest import Api, start
from tests.sources.conftest import every_row, point_at

CONTACTS, MESSAGES = 300, 3000  # enough messages for every kind of bounce (about 2 % of them bounce)
# Spam reports and unsubscribes the sandbox adds before the extract (its seed has none of the first).
SPAM, UNSUBS = 6, 4
COUNTERS = {  # campaign_performance's column -> the statcounter it equals
    "sent": "Total",
    "delivered": "MessageSentCount",
    "opens": "EventOpenedCount",
    "unique_opens": "MessageOpenedCount",
    "clicks": "EventClickedCount",
    "unique_clicks": "MessageClickedCount",
    "hard_bounces": "MessageHardBouncedCount",
    "soft_bounces": "MessageSoftBouncedCount",
    "blocked": "MessageBlockedCount",
    "spam_reports": "MessageSpamCount",
    "unsubscribes": "MessageUnsubscribedCount",
}
SENT_TO = {"hard": 1, "soft": 3}  # the StateID the sandbox gives each kind of bounce


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).fetchall()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, Path]]:
    """A seeded sandbox with a few spam reports and unsubscribes, and a database after one extract. Its
    history ends now, as the extract's clock reads it: `contact_engagement` counts days back from the
    extract, and a sandbox frozen months ago would make every contact who ever opened `dormant`."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    app = start(contacts=CONTACTS, messages=MESSAGES, now=now)
    api = Api(app)
    done = api.admin("POST", "engagement", {"spam": SPAM, "unsubs": UNSUBS, "seed": 3}).json()
    assert done == {"opens": 0, "clicks": 0, "bounces": 0, "unsubs": UNSUBS, "spam": SPAM}
    # One unsubscribed member subscribes again: a subscribe today, and no unsubscribe left.
    member = api.data("listrecipient", Unsub="true", Limit=1, Sort="ID")[0]
    email = api.data(f"contact/{member['ContactID']}")[0]["Email"]
    again = api.post(f"contactslist/{member['ListID']}/managecontact", {"Email": email, "Action": "addforce"})
    assert again.status_code == 201, again.text
    db = tmp_path_factory.mktemp("models") / "mj.duckdb"
    with pytest.MonkeyPatch.context() as monkeypatch:
        point_at(api, monkeypatch)
        extract(db=str(db))
    yield api, db
    app.stop()


def statcounters(api: Api) -> dict[int, dict[str, Any]]:
    """The sandbox's lifetime statcounters per campaign, as it computes them from what it holds."""
    found = every_row(
        api,
        "statcounters",
        sort="SourceID",
        CounterSource="Campaign",
        CounterTiming="Message",
        CounterResolution="Lifetime",
    )
    return {int(r["SourceID"]): r for r in found}


def test_campaign_performance_summed_over_days_equals_the_statcounters(seeded: tuple[Api, Path]) -> None:
    api, db = seeded
    columns = ", ".join(f"sum({c})" for c in COUNTERS)
    got = {
        r[0]: dict(zip(COUNTERS, r[1:], strict=True))
        for r in rows(
            db, f"select campaign_id, {columns} from mailjet_models.campaign_performance group by 1"
        )
    }
    want = {
        campaign: {column: row[counter] for column, counter in COUNTERS.items()}
        for campaign, row in statcounters(api).items()
    }
    assert got == want
    assert sum(w["spam_reports"] for w in want.values()) == SPAM
    for figure in ("opens", "unique_clicks", "hard_bounces", "soft_bounces", "unsubscribes"):
        assert sum(w[figure] for w in want.values()) > 0, figure


def test_campaign_performance_has_one_row_per_campaign_and_utc_day_of_sending(
    seeded: tuple[Api, Path],
) -> None:
    api, db = seeded
    sent = Counter(
        (int(m["CampaignID"]), date.fromisoformat(str(m["ArrivedAt"])[:10]))
        for m in every_row(api, "message", FromTS=1)
    )
    got = rows(db, "select campaign_id, sent_on, sent from mailjet_models.campaign_performance")
    assert {(c, d): n for c, d, n in got} == sent
    # Each day's message counters equal the sandbox's statcounters of that day (it slices them by the day
    # the message was sent; its event counters, by the day of the event: not compared).
    by_message = {column: counter for column, counter in COUNTERS.items() if counter.startswith("Message")}
    daily = every_row(
        api,
        "statcounters",
        sort="SourceID",
        CounterSource="Campaign",
        CounterTiming="Message",
        CounterResolution="Day",
        FromTS=1,
    )
    want = Counter(
        {
            (int(r["SourceID"]), date.fromisoformat(str(r["Timeslice"])[:10]), column): r[counter]
            for r in daily
            for column, counter in by_message.items()
            if r[counter]
        }
    )
    columns = ", ".join(by_message)
    got_daily = Counter(
        {
            (r[0], r[1], column): value
            for r in rows(
                db, f"select campaign_id, sent_on, {columns} from mailjet_models.campaign_performance"
            )
            for column, value in zip(by_message, r[2:], strict=True)
            if value
        }
    )
    assert got_daily == want
    rates = rows(
        db,
        "select delivered, sent, delivery_rate, unique_opens, open_rate, spam_reports, spam_rate "
        "from mailjet_models.campaign_performance",
    )
    for delivered, sent_count, delivery_rate, opened, open_rate, spam, spam_rate in rates:
        assert delivery_rate == pytest.approx(delivered / sent_count)
        assert open_rate == (pytest.approx(opened / delivered) if delivered else None)
        assert spam_rate == (pytest.approx(spam / delivered) if delivered else None)


def test_list_growth_counts_the_subscribes_and_unsubscribes_the_sandbox_holds(
    seeded: tuple[Api, Path],
) -> None:
    api, db = seeded
    want: Counter[tuple[int, str, date, str]] = Counter()
    for member in every_row(api, "listrecipient"):
        moves = [("subscribes", member["SubscribedAt"])]
        if member["IsUnsubscribed"]:
            moves.append(("unsubscribes", member["UnsubscribedAt"]))
        for kind, stamp in moves:
            day = datetime.fromisoformat(str(stamp)).date()
            want[(int(member["ListID"]), "day", day, kind)] += 1
            want[(int(member["ListID"]), "week", day - timedelta(days=day.weekday()), kind)] += 1
    got: Counter[tuple[int, str, date, str]] = Counter()
    for list_id, period, start_on, subscribes, unsubscribes, net in rows(
        db,
        "select list_id, period, period_start, subscribes, unsubscribes, net from mailjet_models.list_growth",
    ):
        assert net == subscribes - unsubscribes
        for kind, count in (("subscribes", subscribes), ("unsubscribes", unsubscribes)):
            if count:
                got[(list_id, period, start_on, kind)] = count
    assert got == want
    assert (
        sum(n for (_, period, _, kind), n in want.items() if period == "day" and kind == "unsubscribes")
        > UNSUBS
    )


def test_deliverability_counts_the_bounces_the_sandbox_served(seeded: tuple[Api, Path]) -> None:
    api, db = seeded
    domain = {int(c["ID"]): str(c["Email"]).split("@")[1] for c in every_row(api, "contact")}
    served = Counter(
        (
            int(b["CampaignID"]),
            domain[int(b["ContactID"])],
            "hard" if b["IsStatePermanent"] else "soft",
            int(b["StateID"]),
        )
        for b in every_row(api, "bouncestatistics", FromTS=1)
    )
    got = rows(
        db,
        "select campaign_id, recipient_domain, bounce_type, state_id, error, bounces "
        "from mailjet_models.deliverability",
    )
    assert {r[:4]: r[5] for r in got} == served
    assert {(r[2], r[3], r[4]) for r in got} == {("hard", 1, "user unknown"), ("soft", 3, "quota exceeded")}


def test_the_spam_rate_by_campaign_is_the_statcounters(seeded: tuple[Api, Path]) -> None:
    api, db = seeded
    want = {
        campaign: (
            r["MessageSentCount"],
            r["MessageSpamCount"],
            r["MessageSpamCount"] / r["MessageSentCount"],
        )
        for campaign, r in statcounters(api).items()
    }
    got = {r[0]: r[1:] for r in rows(db, "select * from mailjet_models.deliverability_spam")}
    assert got.keys() == want.keys()
    for campaign, (delivered, spam, rate) in got.items():
        assert (delivered, spam) == want[campaign][:2]
        assert rate == pytest.approx(want[campaign][2])


def test_every_model_is_published(seeded: tuple[Api, Path]) -> None:
    _, db = seeded
    published = rows(
        db,
        "select table_name from information_schema.tables where table_schema = 'mailjet_models' order by 1",
    )
    assert [r[0] for r in published] == sorted(model_names())


def tier(last: datetime | None, as_of: datetime) -> str:
    """The engagement tier of a contact whose latest open or click was `last`, as docs/models.md states it."""
    if last is None:
        return "never"
    if last >= as_of - timedelta(days=30):
        return "active"
    if last >= as_of - timedelta(days=90):
        return "lapsing"
    return "dormant"


def test_contact_engagement_tiers_follow_the_opens_and_clicks_the_sandbox_lists(
    seeded: tuple[Api, Path],
) -> None:
    api, db = seeded

    def stamp(value: object) -> datetime:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)

    [(as_of,)] = rows(db, "select max(_extracted_at) from mailjet_api.messages")  # the data's own now
    as_of = as_of.astimezone(UTC)
    sent: Counter[int] = Counter()
    last_sent: dict[int, datetime] = {}
    for m in every_row(api, "message", FromTS=1):
        contact = int(m["ContactID"])
        sent[contact] += 1
        last_sent[contact] = max(last_sent.get(contact, stamp(m["ArrivedAt"])), stamp(m["ArrivedAt"]))
    last_open: dict[int, datetime] = {}
    for o in every_row(api, "openinformation", sort="OpenedAt", FromTS=1):
        at = stamp(o["OpenedAt"])
        last_open[int(o["ContactID"])] = max(last_open.get(int(o["ContactID"]), at), at)
    last_click: dict[int, datetime] = {}
    for c in every_row(api, "clickstatistics", FromTS=1):
        at = stamp(c["ClickedAt"])
        last_click[int(c["ContactID"])] = max(last_click.get(int(c["ContactID"]), at), at)
    want = {}
    for c in every_row(api, "contact"):
        contact = int(c["ID"])
        opened, clicked = last_open.get(contact), last_click.get(contact)
        engaged = max((t for t in (opened, clicked) if t is not None), default=None)
        want[contact] = (
            str(c["Email"]),
            sent[contact],
            last_sent.get(contact),
            opened,
            clicked,
            tier(engaged, as_of),
            as_of,
        )
    got = {
        r[0]: tuple(v.astimezone(UTC) if isinstance(v, datetime) else v for v in r[1:])
        for r in rows(db, "select * from mailjet_models.contact_engagement")
    }
    assert got == want
    tiers = Counter(w[5] for w in want.values())
    assert set(tiers) == {"active", "lapsing", "dormant", "never"}, tiers  # the seed spans two years


def test_sync_history_publishes_empty_where_no_plan_ran(seeded: tuple[Api, Path]) -> None:
    _, db = seeded
    assert not rows(
        db,
        "select table_name from information_schema.tables where table_schema = 'mailjet_sync' "
        "and table_name in ('sync_runs', 'sync_plan', 'sync_rejections', 'sync_changelog')",
    )
    assert rows(db, "select count(*) from mailjet_models.sync_history") == [(0,)]


def test_the_report_is_written_before_any_plan(seeded: tuple[Api, Path], tmp_path: Path) -> None:
    """`mailjet-elt report` on a database no plan has run on: every figure of the models, and the sync's
    history says what to run instead of drawing an empty chart."""
    from pipelines.report_html import write_report

    _, db = seeded
    out = tmp_path / "report.html"
    report = write_report(db=str(db), out=str(out))
    html = out.read_text(encoding="utf-8")
    assert report.figures["sync"] == 0 and report.figures["campaigns"] == 12 and report.figures["tiers"] == 4
    assert html.count("Nothing to show yet") == 1
    assert "Nothing to show yet: run `mailjet-elt plan` and `mailjet-elt apply`" in html
    assert '<canvas id="chart-sync"' not in html and '<canvas id="chart-campaigns"' in html
