"""A realistic demo workspace: varied companies, people and a small team, by seed."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select

from domain.accounts import Account
from domain.errors import AccordError
from domain.periods import Month, Period
from domain.users import Role
from domain.values import counted, fold_text, phone_e164
from storage.bulk import bulk_insert, new_id
from storage.demo.field import field_history
from storage.keys import derived_columns, email_key
from storage.schema import (
    AccountReachRow,
    AccountRow,
    AgreementVersionRow,
    ChangeRow,
    ContactRow,
    DossierConflictRow,
    DossierRatingRow,
    DossierRow,
    DossierTemplateRow,
    EngagementRow,
    GoalVersionRow,
    IcpVersionRow,
    ImportBatchRow,
    ImportChangeRow,
    InteractionRow,
    LeadDefinitionRow,
    LogExceptionRow,
    StageChangeRow,
    TargetRow,
    UserRow,
    WorkCalendarRow,
    table_of,
    utcnow,
)
from storage.users import login_name
from storage.workspace import Workspace

INDUSTRIES = [
    "Software",
    "Logistics",
    "Manufacturing",
    "Retail",
    "Healthcare",
    "Financial Services",
    "Construction",
    "Education",
    "Energy",
    "Hospitality",
    "Media",
    "Agriculture",
    "Professional Services",
    "Telecommunications",
    "Automotive",
]
PLACES = {
    "United States": (
        "+1",
        [
            ("California", "San Francisco"),
            ("Texas", "Austin"),
            ("New York", "New York"),
            ("Illinois", "Chicago"),
        ],
    ),
    "United Kingdom": (
        "+44",
        [("England", "London"), ("England", "Manchester"), ("Scotland", "Edinburgh")],
    ),
    "Germany": (
        "+49",
        [("Bavaria", "München"), ("Berlin", "Berlin"), ("North Rhine-Westphalia", "Köln")],
    ),
    "France": ("+33", [("Île-de-France", "Paris"), ("Auvergne-Rhône-Alpes", "Lyon")]),
    "Netherlands": ("+31", [("North Holland", "Amsterdam"), ("Utrecht", "Utrecht")]),
    "Spain": ("+34", [("Catalonia", "Barcelona"), ("Madrid", "Madrid")]),
    "Italy": ("+39", [("Lombardy", "Milano"), ("Lazio", "Roma")]),
    "Sweden": ("+46", [("Stockholm", "Stockholm"), ("Skåne", "Malmö")]),
    "Canada": ("+1", [("Ontario", "Toronto"), ("Québec", "Montréal")]),
    "Australia": ("+61", [("New South Wales", "Sydney"), ("Victoria", "Melbourne")]),
    "Japan": ("+81", [("Tokyo", "Tokyo"), ("Osaka", "Osaka")]),
}
LEGAL = {
    "United States": "Inc.",
    "United Kingdom": "Ltd",
    "Germany": "GmbH",
    "France": "SAS",
    "Netherlands": "B.V.",
    "Spain": "S.L.",
    "Italy": "S.r.l.",
    "Sweden": "AB",
    "Canada": "Inc.",
    "Australia": "Pty Ltd",
    "Japan": "K.K.",
}
PREFIXES = [
    "North",
    "Blue",
    "Bright",
    "Silver",
    "Iron",
    "Green",
    "Summit",
    "Harbor",
    "Cedar",
    "Falcon",
    "Nova",
    "Alpine",
    "River",
    "Stone",
    "Oak",
    "Meridian",
    "Crescent",
    "Atlas",
    "Beacon",
    "Pioneer",
    "Vertex",
    "Lumen",
    "Orbit",
    "Sterling",
]
SUFFIXES = [
    "wind",
    "peak",
    "field",
    "bridge",
    "works",
    "line",
    "gate",
    "point",
    "wave",
    "stone",
    "light",
    "forge",
    "craft",
    "path",
    "core",
]
TRADES = {
    "Software": "Analytics",
    "Logistics": "Logistics",
    "Manufacturing": "Industries",
    "Retail": "Stores",
    "Healthcare": "Health",
    "Financial Services": "Capital",
    "Construction": "Builders",
    "Education": "Learning",
    "Energy": "Energy",
    "Hospitality": "Hotels",
    "Media": "Media",
    "Agriculture": "Farms",
    "Professional Services": "Consulting",
    "Telecommunications": "Telecom",
    "Automotive": "Motors",
}
SOURCES = ["Trade show", "Webinar", "Website", "Referral", "Purchased list", "Partner"]
TAGS = [
    "cloud",
    "expansion",
    "new CFO",
    "competitor customer",
    "funding",
    "ERP project",
    "hiring",
    "sustainability",
]
FIRST = [
    "Anna",
    "Lukas",
    "Sophie",
    "Jörg",
    "Émilie",
    "Mateo",
    "Giulia",
    "Lars",
    "Hiroshi",
    "Olivia",
    "Noah",
    "Chloé",
    "Søren",
    "Zoë",
    "Ravi",
    "Aiko",
    "Carlos",
    "Ingrid",
    "Fatima",
    "Liam",
    "Mia",
    "Björn",
    "Léa",
    "Tomás",
]
LAST = [
    "Müller",
    "Smith",
    "Dubois",
    "García",
    "Rossi",
    "Johansson",
    "Tanaka",
    "Brown",
    "Schneider",
    "Martin",
    "Jansen",
    "Kowalski",
    "O'Brien",
    "Nguyen",
    "Lefèvre",
    "Andersson",
    "Fernández",
    "Weber",
    "Clarke",
    "Suzuki",
]
TITLES = [
    ("CEO", True),
    ("Owner", True),
    ("CFO", True),
    ("VP Sales", True),
    ("Head of Operations", True),
    ("Head of IT", True),
    ("Purchasing Manager", False),
    ("Marketing Manager", False),
    ("Office Manager", False),
    ("IT Administrator", False),
    ("Sales Representative", False),
    ("Project Lead", False),
]
#: The demo company's people: its history (the ICP, the target list, owners, dossiers and
#: reviews) is theirs, whoever opens the demo.
DEMO_OWNER, MARKETER = "Alex Morgan", "Maya Chen"
TEAM = [(DEMO_OWNER, Role.OWNER), (MARKETER, Role.MARKETING), ("Sam Rivera", Role.REP),
        ("Jordan Lee", Role.REP)]  # fmt: skip

ACCOUNT_COLUMNS = [
    "id",
    "name",
    "website",
    "industry",
    "employees",
    "annual_revenue",
    "country",
    "region",
    "city",
    "phone",
    "founded_year",
    "tags",
    "source",
    "country_code",
    "phone_e164",
    "domain_key",
    "name_key",
    "search_text",
    "created_at",
    "updated_at",
    "changed_by",
    "version",
]
CONTACT_COLUMNS = [
    "id",
    "account_id",
    "name",
    "title",
    "email",
    "email_key",
    "phone",
    "phone_e164",
    "decision_maker",
    "created_at",
    "updated_at",
    "changed_by",
    "version",
]
CHUNK = 5000


def _account(rng: random.Random, number: int) -> Account:
    industry = rng.choice(INDUSTRIES)
    country = rng.choice(list(PLACES))
    code, places = PLACES[country]
    region, city = rng.choice(places)
    stem = rng.choice(PREFIXES) + rng.choice(SUFFIXES)
    name = f"{stem} {TRADES[industry]} {LEGAL[country]}"
    employees = max(1, int(rng.lognormvariate(3.6, 1.4)))
    revenue = int(employees * rng.uniform(60_000, 250_000) // 10_000 * 10_000)
    tld = {"United Kingdom": "co.uk", "Germany": "de", "France": "fr", "Japan": "jp"}.get(
        country, "com"
    )
    return Account(
        name=name,
        website=f"https://www.{stem.lower()}-{TRADES[industry].lower()}-{number}.{tld}",
        industry=industry,
        employees=employees,
        annual_revenue=revenue if rng.random() > 0.15 else None,
        country=country,
        region=region,
        city=city,
        phone=f"{code} {rng.randint(10, 99)} {rng.randint(1000, 9999)} {rng.randint(100, 999)}"
        if rng.random() > 0.2
        else None,
        founded_year=rng.randint(1950, 2023) if rng.random() > 0.1 else None,
        tags=", ".join(rng.sample(TAGS, rng.randint(0, 2))) or None,
        source=rng.choice(SOURCES),
    )


def build_demo(
    workspace: Workspace,
    *,
    accounts: int = 2000,
    seed: int = 7,
    replace: bool = False,
    owner_name: str | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> str:
    """Fill ``workspace`` with demo data. ``replace`` wipes it first (only for the demo file);
    otherwise a workspace that already has accounts is refused. Whoever opens it (``owner_name``,
    or a team database's login) joins the demo's people as an owner, unless they are one of
    them; what the demo did is credited to its own people."""
    rng = random.Random(seed)
    now = utcnow()
    opener = login_name(workspace) or owner_name or DEMO_OWNER  # a team database: the login
    contacts_made = 0
    with workspace.write() as conn:
        if replace:
            for model in (
                AccountReachRow,
                StageChangeRow,
                InteractionRow,
                EngagementRow,
                LogExceptionRow,
                DossierRatingRow,
                DossierConflictRow,
                DossierRow,
                DossierTemplateRow,
                GoalVersionRow,
                TargetRow,
                ContactRow,
                ImportChangeRow,
                AccountRow,
                ImportBatchRow,
                IcpVersionRow,
                LeadDefinitionRow,
                AgreementVersionRow,
                WorkCalendarRow,
                ChangeRow,
                UserRow,
            ):
                conn.execute(delete(table_of(model)))
        elif conn.execute(select(func.count()).select_from(AccountRow)).scalar_one():
            raise AccordError(
                "This workspace already has accounts; demo data goes into an empty workspace."
            )
        conn.execute(delete(table_of(UserRow)))
        people = TEAM + ([] if opener in dict(TEAM) else [(opener, Role.OWNER)])
        conn.execute(
            insert(table_of(UserRow)),
            [
                {
                    "id": new_id(),
                    "name": n,
                    "role": r.value,
                    "created_at": now,
                    "updated_at": now,
                    "changed_by": DEMO_OWNER,
                    "version": 1,
                }
                for n, r in people
            ],
        )
        stamp = (now, now, DEMO_OWNER, 1)
        for start in range(0, accounts, CHUNK):
            if cancel is not None and cancel():
                raise AccordError("Building the demo workspace was cancelled.")
            account_rows: list[tuple[Any, ...]] = []
            contact_rows: list[tuple[Any, ...]] = []
            for number in range(start, min(accounts, start + CHUNK)):
                account = _account(rng, number)
                values = {c: getattr(account, c) for c in ACCOUNT_COLUMNS[1:13]}
                derived = derived_columns(values)
                account_id = new_id()
                account_rows.append(
                    (
                        account_id,
                        *values.values(),
                        derived["country_code"],
                        derived["phone_e164"],
                        derived["domain_key"],
                        derived["name_key"],
                        derived["search_text"],
                        *stamp,
                    )
                )
                domain = derived["domain_key"]
                for _ in range(rng.randint(1, 5)):
                    first, last = rng.choice(FIRST), rng.choice(LAST)
                    title, decides = rng.choice(TITLES)
                    email = f"{fold_text(first)[0]}.{fold_text(last).replace(' ', '')}@{domain}"
                    phone = (
                        f"{account.phone[:-3]}{rng.randint(100, 999)}" if account.phone else None
                    )
                    contact_rows.append(
                        (
                            new_id(),
                            account_id,
                            f"{first} {last}",
                            title,
                            email,
                            email_key(email),
                            phone,
                            phone_e164(phone, derived["country_code"]),
                            decides,
                            *stamp,
                        )
                    )
            bulk_insert(conn, table_of(AccountRow), ACCOUNT_COLUMNS, account_rows)
            bulk_insert(conn, table_of(ContactRow), CONTACT_COLUMNS, contact_rows)
            contacts_made += len(contact_rows)
            if progress is not None:
                progress(min(accounts, start + CHUNK), accounts)
        summary = ", ".join((counted(accounts, "account"), counted(contacts_made, "contact"),
                             counted(len(people), "user")))  # fmt: skip
        conn.execute(
            insert(table_of(ChangeRow)).values(
                at=now,
                user_name=opener,
                table_name="accounts",
                action="demo",
                details={"summary": summary, "seed": seed},
            )
        )
    plan = _plan(workspace, seed)
    with workspace.write() as conn:
        field = field_history(conn, now, seed, MARKETER)
    done = ", ".join((counted(field.handed_off, "hand-off"),
                      counted(field.interactions, "interaction"),
                      counted(field.engagements, "engagement")))  # fmt: skip
    goal = _goal(workspace, now)
    return f"{summary}; {plan}; six months of field history: {done}; {goal}"


#: The demo goal's owners: the marketer and one rep of the demo's team.
GOAL_OWNERS = (MARKETER, "Sam Rivera")


def _goal(workspace: Workspace, now: datetime) -> str:
    """The shared goal, set by the owner: new revenue over the six months to this one, its
    target what the demo's wins so far would come to by the end, and a sixth more (rounded
    up to 10,000), so that the goal report opens on a goal within reach, not yet met."""
    from domain.goal import Goal, Metric, elapsed, set_goal
    from storage.goals import SqlGoalStore
    from storage.targets import SqlTargetStore

    first = Month.of(now.date()).plus(-5)
    period = Period.months_from(first, 6)
    start, end = period.start(ZoneInfo("UTC")), period.end(ZoneInfo("UTC"))
    wins = table_of(InteractionRow)
    with workspace.read() as conn:
        won = conn.execute(
            select(func.coalesce(func.sum(wins.c.value), 0)).where(
                wins.c.outcome == "won", wins.c.at >= start, wins.c.at < now
            )
        ).scalar_one()
    target = max(1, math.ceil(int(won) / elapsed(start, end, now) * 7 / 6 / 10_000)) * 10_000
    owner = SqlTargetStore(workspace).users_by_name()[DEMO_OWNER]
    goal = Goal(Metric.NEW_REVENUE, target, first.first_day, 6, GOAL_OWNERS)
    set_goal(SqlGoalStore(workspace), owner, goal)
    return f"goal: new revenue of {target:,} over {period.label}"


#: The demo's ICP, as the JSON document the README shows.
DEMO_ICP: dict[str, Any] = {
    "format": "accord-icp",
    "version": 1,
    "name": "Mid-market B2B, Europe and North America",
    "description": "Companies we win: 50-1,000 people in industries that buy software.",
    "tiers": {"A": 70, "B": 45},
    "criteria": [
        {"field": "country", "operator": "not in", "values": ["Japan", "Australia"],
         "must_have": True},
        {"field": "industry", "operator": "in",
         "values": ["Software", "Logistics", "Manufacturing", "Professional Services"],
         "weight": 35},
        {"field": "employees", "operator": "between", "values": [50, 1000], "weight": 30},
        {"field": "annual_revenue", "operator": "at least", "values": [5000000], "weight": 15},
        {"field": "has_decision_maker", "operator": "is set", "values": [], "weight": 10},
        {"field": "tags", "operator": "contains", "values": ["expansion"], "weight": 10},
    ],
}  # fmt: skip

DEMO_TERRITORIES = {
    **dict.fromkeys(["United States", "Canada", "United Kingdom"], "Sam Rivera"),
    **dict.fromkeys(["Germany", "France", "Netherlands", "Spain", "Italy", "Sweden"], "Jordan Lee"),
}


def _plan(workspace: Workspace, seed: int) -> str:
    """The agreed plan on top of the data, each part by the demo's person whose job it is:
    the marketer saves and applies the ICP, builds the target list and gives owners by
    territory; the owner agrees the lead definition, the service agreement (its hand-offs a
    month near what the list gives six months of field history) and the calendar (this
    computer's time zone, New Year's Day and Christmas Day as holidays); then the research
    on the best listed accounts."""
    from dataclasses import replace
    from datetime import date

    from domain.agreement import Agreement, MarketingSide, SalesSide, save_agreement
    from domain.calendar import Holiday, save_calendar
    from domain.icp import Tier, apply_icp, from_document, save_icp
    from domain.leads import DEFAULT_LEAD_DEFINITION, save_lead_definition
    from domain.targets import Territories, assign_by_territory, build_target_list
    from storage.agreements import SqlAgreementStore, default_calendar
    from storage.demo.dossiers import demo_dossiers
    from storage.icps import SqlIcpStore
    from storage.leads import SqlLeadStore
    from storage.repositories import SqlUnitOfWork
    from storage.targets import SqlTargetStore

    team = SqlTargetStore(workspace).users_by_name()  # by name: a team database's login too
    owner, marketer = team[DEMO_OWNER], team[MARKETER]
    icps = SqlIcpStore(workspace)
    version = save_icp(icps, marketer, from_document(DEMO_ICP), note="agreed at the kick-off")
    apply_icp(icps, marketer, version)
    save_lead_definition(SqlLeadStore(workspace), owner, DEFAULT_LEAD_DEFINITION)
    targets = SqlUnitOfWork(workspace)
    listed = build_target_list(targets, marketer, version, {Tier.A, Tier.B}).added
    assign_by_territory(targets, marketer, Territories.from_document(DEMO_TERRITORIES))
    agreements, year = SqlAgreementStore(workspace), utcnow().year
    save_calendar(agreements, owner, replace(default_calendar(), holidays=tuple(
        Holiday(date(y, m, d), name) for y in (year - 1, year, year + 1)
        for m, d, name in ((1, 1, "New Year's Day"), (12, 25, "Christmas Day"))
    )))  # fmt: skip
    agreed = MarketingSide(handoffs_per_month=max(5, -(-listed // 35) * 5),
                           min_average_quality=3.0, min_tier_a_share=0.3)  # fmt: skip
    sales = SalesSide(first_touch_days=2, attempts=2, attempts_days=14, feedback_days=7)
    save_agreement(agreements, owner, Agreement(agreed, sales, note="Agreed at the kick-off"))
    researched = demo_dossiers(workspace, owner, marketer, seed)
    return f"ICP applied, {counted(listed, 'account')} on the target list, {researched}"
