"""Accord's entry point: parses the command line, opens the workspace, starts the GUI or
runs one headless command. The only module that wires the layers together."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from domain.errors import AccordError, WorkspaceDamaged
from domain.values import clean_text, counted, in_words

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
#: How many accounts of the queue a call pack holds when --limit does not say.
QUEUE_PACK = 20


class _Parser(argparse.ArgumentParser):
    """argparse, saying a wrong choice in a sentence that names the right ones (argparse's
    own words are "argument what: invalid choice")."""

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        if action.choices is None or value in action.choices:
            return
        valid = in_words([str(choice) for choice in action.choices], "or")
        if action.option_strings:
            message = f"{action.option_strings[-1]} cannot be '{value}': use {valid}."
        else:
            message = f"'{value}' is not something {self.prog} does: use {valid}."
        raise argparse.ArgumentError(None, message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="accord",
        description="Accord: one plan for marketing and sales.",
        epilog="Without a command, the window opens.",
    )
    parser.add_argument(
        "--db",
        help="workspace: a SQLite file path or a SQLAlchemy URL "
        "(postgresql+psycopg://user:pass@host/db); default: your data folder",
    )
    parser.add_argument(
        "--user",
        help="who you are in a workspace file (remembered); new names join as reps, "
        "the first person in a workspace is its owner. On a team database you are "
        "your database login",
    )
    parser.add_argument(
        "--demo", action="store_true", help="open the demo workspace (built on first use)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser("demo", help="build a realistic demo workspace")
    demo.add_argument("--accounts", type=int, default=2000, metavar="N")
    demo.add_argument("--seed", type=int, default=7, metavar="S")

    imp = commands.add_parser(
        "import", help="import accounts, contacts or engagement from CSV or XLSX"
    )
    what = imp.add_subparsers(dest="what", metavar="accounts|contacts|engagement", required=True)
    for kind in ("accounts", "contacts", "engagement"):
        sub = what.add_parser(kind, help=f"import {kind}")
        sub.add_argument("file", type=Path, metavar="FILE")
        sub.add_argument(
            "--mapping",
            type=Path,
            metavar="M.json",
            help='JSON object {"file header": "field", ...}',
        )
        if kind == "engagement":
            _engagement_arguments(sub)
        else:
            sub.add_argument(
                "--scale",
                action="append",
                type=_scale,
                default=[],
                metavar='"HEADER=FACTOR"',
                help="multiply a column's amounts by 1000 or 1000000 (a file in thousands or "
                'millions), e.g. --scale "Revenues=1000000"; repeat for more columns',
            )
        sub.add_argument("--sheet", help="XLSX sheet (default: the first)")
        sub.add_argument(
            "--encoding",
            metavar="NAME",
            help="a CSV file's encoding, such as utf-8, cp1252, cp1250 or utf-16 "
            "(default: guessed from its first lines)",
        )
        sub.add_argument(
            "--delimiter",
            metavar="D",
            help="a CSV file's delimiter: one character, or comma, semicolon, tab or "
            "'vertical bar' (default: guessed from its first lines)",
        )
        if kind != "engagement":  # an engagement file has no numbers and no duplicates policy
            sub.add_argument(
                "--numbers",
                metavar="FORMAT",
                help="how the file writes its numbers: 1,234.56 (English), 1.234,56 (German, "
                "Dutch, Spanish …), '1 234,56' (French, Polish, Nordic) or \"1'234.56\" "
                "(Swiss) (default: decided from the numbers in its first rows)",
            )
            sub.add_argument(
                "--on-duplicate", choices=("skip", "fill", "overwrite"), default="skip"
            )
        sub.add_argument(
            "--strict", action="store_true", help="refuse the whole file if any row is bad"
        )
        sub.add_argument(
            "--rejects",
            type=Path,
            metavar="OUT.csv",
            help="write the rejected rows here, to fix and re-import",
        )

    undo = commands.add_parser("undo-import", help="undo a whole import batch")
    undo.add_argument("batch_id", metavar="BATCH_ID")

    exp = commands.add_parser(
        "export", help="export accounts, the target list or the interactions (CSV, XLSX)"
    )
    exp_what = exp.add_subparsers(
        dest="what", metavar="accounts|targets|interactions", required=True
    )
    exp_accounts = exp_what.add_parser("accounts", help="export accounts")
    exp_accounts.add_argument("out", type=Path, metavar="OUT.csv|OUT.xlsx")
    exp_accounts.add_argument("--search", metavar="TEXT")
    exp_targets = exp_what.add_parser("targets", help="export the target list with the why")
    exp_targets.add_argument("out", type=Path, metavar="OUT.csv|OUT.xlsx")
    exp_interactions = exp_what.add_parser(
        "interactions", help="export the logged interactions, one row each (times in UTC)"
    )
    exp_interactions.add_argument("out", type=Path, metavar="OUT.csv|OUT.xlsx")
    exp_interactions.add_argument(
        "--since", type=_day, metavar="YYYY-MM-DD", help="only those from this day on (UTC)"
    )
    exp_interactions.add_argument("--rep", metavar="NAME", help="only those this rep logged")

    log = commands.add_parser(
        "log", help="log a call, visit, email, meeting or video call against an account"
    )
    log.add_argument("account", metavar="ACCOUNT", help="its name, website or id")
    log.add_argument(
        "--outcome",
        required=True,
        metavar="OUTCOME",
        help=f"what came of it: {', '.join(o.value for o in _outcomes())}",
    )
    log.add_argument("--channel", default="call", metavar="call|visit|email|meeting|video")
    log.add_argument("--contact", metavar="NAME", help="one of the account's contacts")
    log.add_argument(
        "--at",
        default="",
        metavar='"YYYY-MM-DD HH:MM"',
        help="when it happened, on this computer's clock (default: now)",
    )
    log.add_argument("--learned", default="", metavar="TEXT", help="what you learned")
    log.add_argument("--quality", default="", metavar="1-5", help="how good the lead is")
    log.add_argument("--lead", default="", metavar="accepted|rejected")
    log.add_argument(
        "--reason",
        default="",
        metavar="TEXT",
        help="why: asked for lost, not a fit and a rejected lead",
    )
    log.add_argument(
        "--commitment", default="", metavar="TEXT", help="what you promised the customer"
    )
    log.add_argument("--next", default="", metavar="TEXT", help="the next step")
    log.add_argument("--follow-up", default="", metavar="YYYY-MM-DD")
    log.add_argument(
        "--value",
        default="",
        metavar="AMOUNT",
        help="the deal's value: asked for an opportunity and a win",
    )

    icp = commands.add_parser("icp", help="the ideal customer profile: import, export, apply")
    icp_what = icp.add_subparsers(dest="what", metavar="import|export|apply", required=True)
    icp_import = icp_what.add_parser("import", help="save an ICP JSON file as a new version")
    icp_import.add_argument("file", type=Path, metavar="ICP.json")
    icp_import.add_argument("--name", help="save under this name instead of the file's")
    icp_import.add_argument("--note", default="", help="why this version")
    icp_export = icp_what.add_parser("export", help="write an ICP as JSON")
    icp_export.add_argument("out", type=Path, metavar="OUT.json")
    icp_export.add_argument("--name", help="default: the active ICP")
    icp_apply = icp_what.add_parser("apply", help="score every account with an ICP")
    icp_apply.add_argument("--name", help="default: the active ICP")

    sla = commands.add_parser("sla", help="the service agreement: import or export it as JSON")
    sla_what = sla.add_subparsers(dest="what", metavar="import|export", required=True)
    sla_import = sla_what.add_parser("import", help="save an agreement JSON file as a new version")
    sla_import.add_argument("file", type=Path, metavar="SLA.json")
    sla_export = sla_what.add_parser("export", help="write the agreement in force as JSON")
    sla_export.add_argument("out", type=Path, metavar="OUT.json")

    calendar = commands.add_parser(
        "calendar", help="the workspace calendar the agreement counts business days on"
    )
    calendar_what = calendar.add_subparsers(
        dest="what", metavar="show|zone|weekend|holidays", required=True
    )
    calendar_what.add_parser("show", help="the time zone, the weekend and the holidays")
    zone = calendar_what.add_parser("zone", help="set the time zone (owner)")
    zone.add_argument("zone", metavar="ZONE", help="an IANA name, e.g. Europe/Vienna")
    weekend = calendar_what.add_parser("weekend", help="set the weekend days (owner)")
    weekend.add_argument("days", metavar="DAYS", help="comma-separated, e.g. Saturday,Sunday")
    holidays = calendar_what.add_parser("holidays", help="add or remove a holiday (owner)")
    holidays.add_argument("verb", choices=["add", "remove"])
    holidays.add_argument("day", type=_day, metavar="YYYY-MM-DD")
    holidays.add_argument("--name", default="", help="what the holiday is called")

    targets = commands.add_parser("targets", help="build the target list and assign owners")
    targets_what = targets.add_subparsers(dest="what", metavar="build|assign", required=True)
    build = targets_what.add_parser("build", help="add the accounts of chosen tiers")
    build.add_argument("--name", help="ICP (default: the active one)")
    build.add_argument("--tiers", default="A,B", help="comma-separated, default A,B")
    assign = targets_what.add_parser("assign", help="give listed accounts without an owner to reps")
    how = assign.add_mutually_exclusive_group(required=True)
    how.add_argument("--round-robin", metavar="REP1,REP2,…", help="deal in turn, best first")
    how.add_argument(
        "--territories",
        type=Path,
        metavar="RULES.json",
        help='JSON object {"country or region": "rep name", ...}',
    )

    queue = commands.add_parser("queue", help="a rep's call queue: whom to contact next, and why")
    queue.add_argument(
        "--rep",
        metavar="NAME",
        help="whose queue (default: yours; owner and marketing see any rep's)",
    )
    queue.add_argument("--limit", type=_positive, metavar="N", help="the first N accounts")
    queue.add_argument("--out", type=Path, metavar="OUT.csv|OUT.xlsx", help="write it to a file")

    report = commands.add_parser(
        "report",
        help="reports as PDF or Excel: the goal, the service agreement, the closed loop, the "
        "meeting pack, the plan; a dossier or a rep's call pack as PDF",
    )
    report_what = report.add_subparsers(
        dest="what", metavar="goal|sla|closed-loop|meeting|plan|dossier|call-pack", required=True
    )
    for kind, said in _REPORTS.items():
        one_report = report_what.add_parser(kind, help=said)
        one_report.add_argument("--out", required=True, type=Path, metavar="OUT.pdf|OUT.xlsx")
        when = one_report.add_mutually_exclusive_group()
        when.add_argument("--period", metavar="YYYY-MM..YYYY-MM",
                          help="whole months (default: the goal's, else the last six)")  # fmt: skip
        when.add_argument("--month", metavar="YYYY-MM", help="one month")
        one_report.add_argument("--rep", metavar="NAME", help="one rep's figures only")
    one = report_what.add_parser("dossier", help="one account's dossier as PDF")
    one.add_argument("--account", required=True, metavar="NAME_OR_DOMAIN")
    one.add_argument("--out", required=True, type=Path, metavar="OUT.pdf")
    pack = report_what.add_parser(
        "call-pack", help="the dossiers of a rep's accounts, or the next accounts of their queue"
    )
    pack.add_argument("--rep", metavar="NAME", help="whose accounts (default: yours)")
    pack.add_argument(
        "--queue",
        action="store_true",
        help="the next accounts of the rep's call queue in its order, a call sheet for each "
        "account without a dossier (default: only the accounts with a dossier, by priority)",
    )
    pack.add_argument("--limit", type=_positive, metavar="N", help="at most N accounts")
    pack.add_argument("--out", required=True, type=Path, metavar="OUT.pdf")

    from domain.goal import Metric

    goal = commands.add_parser("goal", help="the shared goal: set it (owner) or show its progress")
    goal_what = goal.add_subparsers(dest="what", metavar="set|show", required=True)
    goal_set = goal_what.add_parser("set", help="set the shared goal (a new version)")
    goal_set.add_argument("--metric", required=True, metavar="|".join(m.value for m in Metric),
                          help="what the goal counts")  # fmt: skip
    goal_set.add_argument("--target", required=True, metavar="N",
                          help="an amount for new-revenue, a count otherwise")  # fmt: skip
    goal_set.add_argument("--start", required=True, metavar="YYYY-MM-DD",
                          help="the first day (its month counts whole)")  # fmt: skip
    goal_set.add_argument("--months", default="6", metavar="N", help="how long (default: 6)")
    goal_set.add_argument("--owners", required=True, metavar="NAME,NAME",
                          help="its owners: at least one marketing person and one rep")  # fmt: skip
    goal_what.add_parser("show", help="the goal in force, its version and its progress")

    exceptions = commands.add_parser(
        "exceptions", help="exceptions to the target list: list, grant, revoke (owner, marketing)"
    )
    exceptions_what = exceptions.add_subparsers(
        dest="what", metavar="list|grant|revoke", required=True
    )
    listed = exceptions_what.add_parser("list", help="the exceptions in force, newest first")
    listed.add_argument("--revoked", action="store_true", help="the revoked ones too")
    for verb, said in (("grant", "let a rep log against an account off the target list"),
                       ("revoke", "end a rep's exception for an account")):  # fmt: skip
        change = exceptions_what.add_parser(verb, help=said)
        change.add_argument("--rep", required=True, metavar="NAME")
        change.add_argument("--account", required=True, metavar="ACCOUNT",
                            help="its name, website domain or id")  # fmt: skip
        if verb == "grant":
            change.add_argument("--reason", default="", metavar="TEXT", help="kept with it")

    plan = commands.add_parser(
        "plan", help="the written plan both teams agree on: show it, sign it for your side"
    )
    plan_what = plan.add_subparsers(dest="what", metavar="show|sign", required=True)
    plan_what.add_parser("show", help="its parts with their versions, agreed or draft")
    sign = plan_what.add_parser("sign", help="sign the plan as it is now for your side")
    sign.add_argument(
        "--side",
        choices=("marketing", "sales"),
        help="the side you sign for (the owner chooses; default: your own team's)",
    )

    users = commands.add_parser("users", help="list users, or add one with a role (owners)")
    users.add_argument("--add", metavar="NAME")
    users.add_argument("--role", choices=("owner", "marketing", "rep"), default="rep")
    users.add_argument(
        "--login",
        action="store_true",
        help="team database: also make their database login, named like them",
    )

    team = commands.add_parser("team", help="team database: roles the server enforces (owner)")
    team_what = team.add_subparsers(dest="what", metavar="setup", required=True)
    team_what.add_parser(
        "setup",
        help="make the group roles, grants and row-level security (once, and again "
        "after an upgrade)",
    )

    checkout_cmd = commands.add_parser(
        "checkout",
        help="take a local copy of a team workspace to work offline: a rep's accounts, or "
        "the whole workspace (sync it back with accord --db LOCAL.sqlite sync)",
    )
    checkout_cmd.add_argument("--from", dest="source", required=True, metavar="URL_OR_FILE",
                              help="the team workspace: its URL or a workspace file")  # fmt: skip
    checkout_cmd.add_argument("--to", dest="copy", required=True, type=Path,
                              metavar="LOCAL.sqlite", help="the new file for the copy")  # fmt: skip
    checkout_cmd.add_argument(
        "--rep",
        metavar="NAME",
        help="only this rep's accounts (a rep's copy is always of their own; owner and "
        "marketing: default the whole workspace)",
    )

    sync = commands.add_parser(
        "sync",
        help="sync a local copy with the team workspace it was taken from, or a workspace "
        "with other computers through a shared folder",
    )
    sync.add_argument("--folder", type=Path, metavar="DIR",
                      help="a shared folder (network drive, file-sync service) instead of the "
                      "team database")  # fmt: skip
    conflicts = commands.add_parser(
        "conflicts",
        help="the fields changed on two copies that had not met, and the changes kept aside; "
        "settle one with --id and --keep or --value",
    )
    conflicts.add_argument("--id", dest="conflict", metavar="ID", help="the conflict to settle")
    keep = conflicts.add_mutually_exclusive_group()
    keep.add_argument("--keep", choices=("mine", "theirs"),
                      help="keep this copy's value, or the other one's")  # fmt: skip
    keep.add_argument("--value", metavar="TEXT", help="keep this value instead (a merge)")

    commands.add_parser("backups", help="list the backups of a workspace file, newest first")
    restore = commands.add_parser(
        "restore", help="put a backup in the workspace's place (the file as it was is kept)"
    )
    restore.add_argument("backup", type=Path, metavar="BACKUP")
    return parser


#: The reports of the goal, the agreement and the closed loop, and what each holds.
_REPORTS = {
    "goal": "the shared goal: actual, pace, forecast, gap, contribution",
    "sla": "the service agreement: both sides' compliance, per rep and tier, the black hole",
    "closed-loop": "the funnel, lead quality, what the field learned, ICP calibration",
    "meeting": "the meeting pack: summary, goal, both sides, funnel, learnings, decisions",
    "plan": "the written plan to sign: goal, ICP, lead definition, agreement, template",
}


def _engagement_arguments(sub: argparse.ArgumentParser) -> None:
    """What an engagement file may leave out: the kind, campaign and source of its rows."""
    from domain.engagement import EngagementKind

    sub.add_argument(
        "--kind",
        type=_engagement_kind,
        metavar="KIND",
        help="the kind of every row, for a file without a kind column (an attendee list): "
        f"{in_words([repr(k.value) for k in EngagementKind], 'or')}",
    )
    sub.add_argument("--campaign", metavar="NAME", help="the campaign of rows without one")
    sub.add_argument("--source", metavar="NAME", help="the source of rows without one")


def _engagement_kind(text: str) -> Any:
    """``--kind webinar``: a kind of engagement, as people write it."""
    from domain.engagement import parse_kind

    try:
        return parse_kind(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    for name, value in vars(args).items():  # what is typed here may be stored: clean it
        if isinstance(value, str):
            setattr(args, name, clean_text(value))
    if args.command is None:
        from ui.app import run_gui

        return run_gui(db=args.db, user_name=args.user, demo=args.demo)
    handler = _COMMANDS[args.command]
    try:
        code = handler(args)
        sys.stdout.flush()  # a reader that has gone is found here, not at Python's exit
        return code
    except BrokenPipeError:
        # The reader stopped reading (`accord plan show | head`): end quietly, as Unix tools
        # do. What is still buffered would fail again at exit, so it goes nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_REFUSED
    except AccordError as exc:
        print(f"accord: {_said(exc)}", file=sys.stderr)
        return EXIT_REFUSED
    except Exception as exc:
        from storage.backups import damaged, is_damage

        # Broken pages that the quick check at opening had no time to reach (a big file).
        if not is_damage(exc):
            raise
        print(f"accord: {_said(damaged(_workspace_file(args)))}", file=sys.stderr)
        return EXIT_REFUSED


def _said(error: AccordError) -> str:
    """The error for the command line: a damaged workspace with the command that restores
    its newest good backup."""
    if not isinstance(error, WorkspaceDamaged):
        return str(error)
    if error.backup is None:
        return f"{error} There is no good backup of it to restore."
    from shlex import quote

    return (
        f"{error} Restore its newest good backup with: "
        f"accord --db {quote(error.workspace)} restore {quote(error.backup)}"
    )


def _open(args: argparse.Namespace, create: bool = False):  # type: ignore[no-untyped-def]
    """The workspace of ``--db``; only commands that put something in make a new one."""
    from storage.workspace import open_workspace

    return open_workspace(args.db, create=create)


def _name(args: argparse.Namespace) -> str:
    import getpass

    from storage.remembered import remembered_user

    return str(args.user or remembered_user() or getpass.getuser())


def _who(workspace, args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """Who is working: in a workspace file ``--user`` (then remembered), the remembered
    name, or the computer's login name; in a team database, the database login."""
    from storage.remembered import remember_user
    from storage.users import login_name, sign_in

    login = login_name(workspace)
    if login is not None and args.user and args.user != login:
        print(f"accord: --user is ignored in a team database: you are its login '{login}'.",
              file=sys.stderr)  # fmt: skip
    user = sign_in(workspace, _name(args))
    if args.user and login is None:
        remember_user(args.user)
    return user


def _cmd_demo(args: argparse.Namespace) -> int:
    from storage.demo.build import build_demo
    from storage.workspace import demo_path, open_workspace

    workspace = open_workspace(args.db or demo_path())
    summary = build_demo(
        workspace,
        accounts=args.accounts,
        seed=args.seed,
        replace=args.db is None,
        owner_name=_name(args),
    )
    print(f"Demo workspace {workspace.label}: {summary}")
    return EXIT_OK


def _scale(text: str) -> tuple[str, int]:
    """``--scale "Revenues=1000000"``: a header and what its amounts are multiplied by."""
    header, _, factor = text.rpartition("=")
    factor = factor.strip().replace(",", "").replace("_", "")
    if not header.strip() or not factor.isdigit():
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a column and a factor: write it as \"Revenues=1000000\""
        )
    return header, int(factor)


def _imported(workspace: Any, user: Any, args: argparse.Namespace) -> Any:
    """Import the file of ``args``: accounts, contacts or engagement."""
    from domain.engagement import EngagementOptions, import_engagement
    from domain.importing import ImportOptions, OnDuplicate, import_file
    from storage.importing.engagement import SqlEngagementImporter
    from storage.importing.importer import SqlImporter

    read = {"mapping_file": args.mapping, "sheet": args.sheet, "encoding": args.encoding,
            "delimiter": args.delimiter, "strict": args.strict}  # fmt: skip
    if args.what == "engagement":
        engagement = EngagementOptions(
            **read, kind=args.kind, campaign=args.campaign or None, source=args.source or None
        )
        return import_engagement(SqlEngagementImporter(workspace), user, args.file, engagement)
    options = ImportOptions(
        **read,
        scales=dict(args.scale),
        numbers=args.numbers,
        on_duplicate=OnDuplicate(args.on_duplicate),
    )
    return import_file(SqlImporter(workspace), user, args.file, args.what, options)


def _cmd_import(args: argparse.Namespace) -> int:
    from reports.output import check_output
    from reports.rejects import rejects_table
    from reports.tabular import write_table

    if args.rejects:
        if args.rejects.exists() and args.file.exists() and args.rejects.samefile(args.file):
            raise AccordError(
                f"{args.rejects} is the file being imported: write the rejected rows to "
                "another file."
            )
        check_output(args.rejects)
    workspace = _open(args, create=True)
    user = _who(workspace, args)
    try:
        summary = _imported(workspace, user, args)
    except AccordError:
        if args.rejects and args.rejects.exists():  # an earlier run's, not this one's
            args.rejects.unlink()
            print(f"accord: {args.rejects} (an earlier run's rejected rows) is removed.",
                  file=sys.stderr)  # fmt: skip
        raise
    for note in summary.notes:
        print(note)
    print(summary.mapping)
    print(summary.describe())
    print(f"batch id: {summary.batch_id}")
    for matched in summary.matched:
        print(matched.describe())
    if summary.bands:
        print(summary.bands_line())
    if summary.unknown_countries:
        print(summary.unknown_countries_line())
    for warning in summary.warnings:
        print(warning.describe(summary.file_name), file=sys.stderr)
    if more_warned := summary.more_warned():
        print(more_warned, file=sys.stderr)
    for error in summary.errors:
        print(error.describe(summary.file_name), file=sys.stderr)
    if more := summary.more():
        if not args.rejects:
            more += f" --rejects FILE writes all {summary.rejected:,} to a file to fix."
        print(more, file=sys.stderr)
    if args.rejects:  # written even with no row: an earlier run's file is not left there
        try:
            written = write_table(rejects_table(summary), args.rejects)
        except AccordError as exc:  # the import is committed: it succeeded all the same
            print(f"accord: {exc} The import itself is saved.", file=sys.stderr)
            return EXIT_OK
        if summary.rejected:
            print(f"Rejected rows written to {args.rejects}: fix them and import that file again.")
        else:
            print(f"No row was rejected: {args.rejects} holds only the header row.")
        _warn(written.warning)
    return EXIT_OK


def _warn(warning: str | None) -> None:
    if warning:
        print(f"accord: {warning}", file=sys.stderr)


def _day(text: str) -> date:
    """``--since``: a day written as YYYY-MM-DD."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a day written as YYYY-MM-DD") from None


def _outcomes() -> list[Any]:
    from domain.interactions import Outcome

    return list(Outcome)


#: The options of `accord log` by the fields of an interaction they fill.
_LOG_OPTIONS = {
    "outcome": "--outcome", "channel": "--channel", "contact": "--contact", "at": "--at",
    "learned": "--learned", "quality": "--quality", "lead": "--lead", "reason": "--reason",
    "commitments": "--commitment", "next_step": "--next", "follow_up": "--follow-up",
    "value": "--value",
}  # fmt: skip


def _cmd_log(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from domain.errors import ValidationError
    from domain.interactions import contact_named, log_interaction, typed_entry
    from domain.values import shown_time
    from storage.read_models.dossier_print import find_account
    from storage.repositories import SqlUnitOfWork

    workspace = _open(args)
    user = _who(workspace, args)
    account_id = find_account(workspace, args.account)
    options = {field: option.removeprefix("--").replace("-", "_")
               for field, option in _LOG_OPTIONS.items()}  # fmt: skip
    typed = {field: getattr(args, name) for field, name in options.items()}
    with SqlUnitOfWork.reading(workspace) as uow:
        account = uow.accounts.get(account_id)
        known = uow.contacts.for_account(account_id)
    assert account is not None  # found live just now
    try:
        entry = typed_entry(account_id, typed)
        if args.contact:
            entry = replace(entry, contact_id=contact_named(known, args.contact, account.name).id)
        logged = log_interaction(SqlUnitOfWork(workspace), user, entry)
    except ValidationError as error:
        refused = [f"{_LOG_OPTIONS.get(name, name)}: {why}" for name, why in error.problems.items()]
        raise AccordError(f"Nothing was logged: {'; '.join(refused)}.") from None
    stored = logged.interaction
    said = (f"Logged the {stored.channel.label.lower()} with {account.name} of "
            f"{shown_time(stored.at)} ({stored.outcome.label.lower()})")  # fmt: skip
    if logged.stage_change is not None:
        said += f"; its stage is {logged.stage_change.after} now"
    print(said + ".")
    return EXIT_OK


def _cmd_undo_import(args: argparse.Namespace) -> int:
    from domain.importing import undo_import
    from storage.importing.importer import SqlImporter

    workspace = _open(args)
    user = _who(workspace, args)
    print(undo_import(SqlImporter(workspace), user, args.batch_id))
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    from domain.users import export
    from reports.output import check_output
    from reports.tabular import write_table
    from storage.read_models.account_list import ListQuery
    from storage.read_models.export import account_table
    from storage.read_models.interaction_export import interaction_table
    from storage.targets import target_table
    from storage.users import list_users

    check_output(args.out)
    workspace = _open(args)
    user = _who(workspace, args)
    if args.what == "targets":
        table, noun = export(user, lambda: target_table(workspace)), "target account"
    elif args.what == "interactions":
        rep = args.rep
        if rep is not None and rep not in {u.name for u in list_users(workspace)}:
            raise AccordError(f"--rep: there is no user named '{rep}'.")
        table = export(user, lambda: interaction_table(workspace, args.since, rep))
        noun = "interaction"
    else:
        query = ListQuery(search=args.search or "")
        table, noun = export(user, lambda: account_table(workspace, query)), "account"
    written = write_table(table, args.out)
    print(f"Exported {counted(written.rows, noun)} to {args.out}")
    _warn(written.warning)
    return EXIT_OK


def _read_json(path: Path) -> object:
    from storage.importing.files import read_document

    return read_document(path)


def _cmd_icp(args: argparse.Namespace) -> int:
    import json

    from domain.errors import ValidationError
    from domain.icp import apply_icp, from_document, save_icp, to_document
    from reports.output import check_output, write_text
    from storage.icps import SqlIcpStore, find_version

    if args.what == "export":
        check_output(args.out)
    workspace = _open(args, create=True)
    user = _who(workspace, args)
    if args.what == "import":
        try:
            icp = from_document(_read_json(args.file), name=args.name)
        except ValidationError as exc:
            raise AccordError(f"{args.file}: {exc}") from None
        version = save_icp(SqlIcpStore(workspace), user, icp, args.note)
        print(f"Saved {version.label} ({counted(len(icp.criteria), 'criterion', 'criteria')})")
    elif args.what == "export":
        version = find_version(workspace, args.name)
        write_text(args.out, json.dumps(to_document(version.icp), indent=2, ensure_ascii=False))
        print(f"Wrote {version.label} to {args.out}")
    else:
        version = find_version(workspace, args.name)
        scored = apply_icp(SqlIcpStore(workspace), user, version)
        print(f"Scored {counted(scored, 'account')} with {version.label}")
    return EXIT_OK


def _cmd_sla(args: argparse.Namespace) -> int:
    import json

    from domain.agreement import Agreement, save_agreement
    from domain.errors import ValidationError
    from reports.output import check_output, write_text
    from storage.agreements import SqlAgreementStore, current_agreement_version

    if args.what == "export":
        check_output(args.out)
    workspace = _open(args, create=args.what == "import")
    user = _who(workspace, args)
    if args.what == "import":
        try:
            agreement = Agreement.from_document(_read_json(args.file))
        except ValidationError as exc:
            raise AccordError(f"{args.file}: {exc}") from None
        version = save_agreement(SqlAgreementStore(workspace), user, agreement)
        print(f"Saved the service agreement, version {version.number}")
        return EXIT_OK
    with workspace.read() as conn:
        saved = current_agreement_version(conn)
    document = (saved.agreement if saved else Agreement()).to_document()
    write_text(args.out, json.dumps(document, indent=2, ensure_ascii=False))
    which = f"version {saved.number}" if saved else "the default (none is saved yet)"
    print(f"Wrote the service agreement, {which}, to {args.out}")
    return EXIT_OK


def _cmd_calendar(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from domain.calendar import WEEKDAYS, Holiday, save_calendar, weekdays_named
    from domain.errors import ValidationError
    from storage.agreements import SqlAgreementStore, current_calendar

    workspace = _open(args, create=args.what != "show")
    user = _who(workspace, args)
    with workspace.read() as conn:
        calendar = current_calendar(conn)
    if args.what == "show":
        print(f"Time zone: {calendar.time_zone}")
        print(f"Weekend: {in_words([WEEKDAYS[d] for d in sorted(calendar.weekend)])}")
        print(f"Holidays: {len(calendar.holidays) or 'none'}")
        for holiday in calendar.holidays:
            print(f"  {holiday.day.isoformat()} {holiday.name}".rstrip())
        return EXIT_OK
    try:
        if args.what == "zone":
            calendar = replace(calendar, time_zone=args.zone)
        elif args.what == "weekend":
            calendar = replace(calendar, weekend=weekdays_named(args.days))
        elif args.verb == "add":
            calendar = calendar.with_holiday(Holiday(args.day, args.name))
        else:
            calendar = calendar.without_holiday(args.day)
    except ValidationError as exc:
        raise AccordError(str(exc)) from None
    save_calendar(SqlAgreementStore(workspace), user, calendar)
    print(f"Saved the workspace calendar: {calendar.summary}")
    return EXIT_OK


def _cmd_targets(args: argparse.Namespace) -> int:
    from domain.errors import ValidationError
    from domain.icp import Tier
    from domain.targets import (
        Territories,
        assign_by_territory,
        assign_round_robin,
        build_target_list,
    )
    from storage.icps import find_version
    from storage.repositories import SqlUnitOfWork

    workspace = _open(args)
    user = _who(workspace, args)
    uow = SqlUnitOfWork(workspace)
    if args.what == "build":
        try:
            tiers = {Tier(t.strip().upper()) for t in args.tiers.split(",") if t.strip()}
        except ValueError:
            raise AccordError(f"--tiers {args.tiers}: use A, B and C") from None
        version = find_version(workspace, args.name)
        built = build_target_list(uow, user, version, tiers)
        print(built.describe())
        if (fallen := built.fallen_text()) is not None:
            print(f"{fallen} They stay on it: remove them in the window (Targets › Build "
                  "target list… offers to, with a reason).")  # fmt: skip
    elif args.round_robin:
        reps = [r.strip() for r in args.round_robin.split(",") if r.strip()]
        assigned = assign_round_robin(uow, user, reps)
        print(f"Assigned {counted(assigned, 'account')} to {', '.join(reps)}")
    else:
        try:
            territories = Territories.from_document(_read_json(args.territories))
        except ValidationError as exc:
            raise AccordError(f"{args.territories}: {exc}") from None
        assigned = assign_by_territory(uow, user, territories)
        print(f"Assigned {counted(assigned, 'account')} by territory")
    return EXIT_OK


def _positive(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of accounts: use 1 or more")
    return int(text)


def _rep_queue(workspace, user, rep: str | None, limit: int | None):  # type: ignore[no-untyped-def]
    """The rep's call queue now (the rep's date is this computer's)."""
    from datetime import UTC, datetime

    from domain.queue import call_queue
    from storage.queue import SqlQueue

    now = datetime.now(UTC)
    return call_queue(SqlQueue(workspace), user, rep, now=now, today=now.astimezone().date(),
                      limit=limit), now  # fmt: skip


def _cmd_queue(args: argparse.Namespace) -> int:
    from domain.queue import queue_table, reasons
    from domain.users import export
    from reports.output import check_output
    from reports.tabular import write_table

    if args.out:
        check_output(args.out)
    workspace = _open(args)
    user = _who(workspace, args)
    entries, now = _rep_queue(workspace, user, args.rep, args.limit)
    today = now.astimezone().date()
    rep = args.rep or user.name
    if args.out:
        written = write_table(export(user, lambda: queue_table(entries, now, today)), args.out)
        print(f"Wrote {rep}'s call queue ({counted(written.rows, 'account')}) to {args.out}")
        _warn(written.warning)
        return EXIT_OK
    if not entries:
        print(f"{rep}'s call queue is empty: no open account on the target list is theirs.")
        return EXIT_OK
    print(f"{rep}'s call queue: {counted(len(entries), 'account')}")
    width = len(str(len(entries)))
    for n, entry in enumerate(entries, 1):
        print(f"{n:>{width}}. {entry.account}")
        print(f"{'':>{width}}  {reasons(entry, now, today)}")
        if entry.next_step:
            print(f"{'':>{width}}  Next step: {entry.next_step}")
    return EXIT_OK


def _report_period(args: argparse.Namespace) -> Any:
    """The period of ``--period`` or ``--month``; None when neither is given."""
    from domain.periods import Month, Period

    if args.month:
        month = Month.parse(args.month, "month")
        return Period(month, month)
    return Period.parse(args.period) if args.period else None


def _cmd_goal_report(args: argparse.Namespace) -> int:
    """``report goal|sla|closed-loop|meeting|plan``: the report as PDF or workbook."""
    from datetime import UTC, datetime

    from domain.report import ReportKind
    from domain.users import export
    from reports.report_file import check_report_path, lists_raw_rows, write_report
    from storage.read_models.reports import make_report, report_readers, report_scope

    kind = ReportKind(args.what)
    period = _report_period(args)
    check_report_path(args.out)
    workspace = _open(args)
    user = _who(workspace, args)
    with report_readers(workspace) as readers:
        scope = report_scope(readers[0], datetime.now(UTC), period, args.rep)
        raw_rows = lists_raw_rows(args.out)
        report = export(user, lambda: make_report(readers, kind, scope, workspace.name, raw_rows))
    warning = write_report(report, args.out)
    whose = f", {scope.rep}'s figures" if scope.rep else ""
    print(f"Wrote {kind.in_sentence} ({scope.period.label}{whose}) to {args.out}")
    _warn(warning)
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from domain.users import export
    from reports.dossier_pdf import write_dossiers
    from reports.output import check_output
    from storage.read_models.dossier_print import call_pack_job, dossier_job, printed_dossiers

    if args.what in _REPORTS:
        return _cmd_goal_report(args)
    check_output(args.out)
    workspace = _open(args)
    user = _who(workspace, args)
    if args.what == "call-pack" and args.queue:
        return _queue_pack(workspace, user, args)
    if args.what == "dossier":
        job = dossier_job(workspace, args.account)
    else:
        job = call_pack_job(workspace, args.rep or user.name, args.limit)
    count = write_dossiers(
        export(user, lambda: printed_dossiers(workspace, job.account_ids)),
        args.out,
        title=job.title,
        workspace=workspace.name,
        cover_lines=job.cover,
        count=len(job.account_ids),
    )
    print(f"Wrote {counted(count, 'dossier')} to {args.out}")
    return EXIT_OK


def _queue_pack(workspace, user, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    """The call pack of the next ``--limit`` accounts of the rep's queue (20 by default)."""
    from domain.users import export
    from reports.call_sheet import write_call_pack
    from storage.read_models.dossier_print import printed_pack, queue_pack_job

    entries, now = _rep_queue(workspace, user, args.rep, args.limit or QUEUE_PACK)
    job = queue_pack_job(workspace, args.rep or user.name, entries)
    count = write_call_pack(
        export(user, lambda: printed_pack(workspace, entries, now, now.astimezone().date())),
        args.out,
        title=job.title,
        workspace=workspace.name,
        cover_lines=job.cover,
        count=len(entries),
    )
    print(f"Wrote the call pack of {counted(count, 'account')} ({job.cover[-1]}) to {args.out}")
    return EXIT_OK


def _cmd_checkout(args: argparse.Namespace) -> int:
    from shlex import quote

    from domain.sync import copy_scope
    from storage.sync.checkout import checkout, held
    from storage.workspace import open_workspace

    team = open_workspace(args.source, create=False)
    user = _who(team, args)
    rep = copy_scope(user, args.rep)
    copy = checkout(team, args.copy, user, rep)
    whose = f"{rep}'s accounts" if rep else "the whole workspace"
    local = quote(copy.label)
    print(f"Copied {whose} from {team.label} to {copy.label} ({held(copy)}). Work on it "
          f"with accord --db {local}, and sync it with accord --db {local} sync.")  # fmt: skip
    return EXIT_OK


def _cmd_sync(args: argparse.Namespace) -> int:
    from storage.sync.folder import sync_through_folder
    from storage.sync.team import sync_with_team, team_source
    from storage.workspace import open_workspace

    local = _open(args)  # a copy made by an older Accord is brought up to date first
    user = _who(local, args)
    if args.folder:
        summary = sync_through_folder(local, args.folder, user)
        print(f"Synced {local.label} through {args.folder}. {summary.sentence()}")
        return EXIT_OK
    # The team database is not migrated from a laptop: an older one refuses the changes of
    # a newer Accord in a sentence, and its owner upgrades it.
    team = open_workspace(team_source(local), migrate=False, create=False)
    summary = sync_with_team(local, team, user)
    print(f"Synced {local.label} with {team.label}. {summary.sentence()}")
    return EXIT_OK


def _cmd_conflicts(args: argparse.Namespace) -> int:
    from domain.values import shown_time
    from storage.sync.conflicts import list_conflicts, list_refused, settle_conflict

    if bool(args.keep or args.value is not None) != bool(args.conflict):
        raise AccordError("Settle a conflict with both --id ID and --keep mine|theirs or --value.")
    workspace = _open(args)
    if args.conflict:
        user = _who(workspace, args)
        kept = args.keep or args.value
        settled = settle_conflict(workspace, user, args.conflict, kept)
        print(f"Settled the conflict on {settled.what}, {settled.field}: every copy keeps the "
              "value you chose once it has synced.")  # fmt: skip
    with workspace.read() as conn:
        listed, refused = list_conflicts(conn), list_refused(conn)
    if not listed:
        print("No conflict waits to be settled.")
    for conflict in listed:
        print(f"{conflict.id}  {conflict.what}, {conflict.field}")
        for n, head in enumerate(conflict.heads):
            shown = "shown" if n == 0 else "also"
            print(f"    {shown}: {_value(head.value)} by {head.author}, {shown_time(head.at)}")
    if listed:
        print("Settle one with: accord conflicts --id ID --keep mine|theirs, or --value TEXT.")
    if refused:
        print(f"{counted(len(refused), 'change')} kept aside, not applied:")
    for change in refused:
        print(f"    {change.table}, {change.field}: {_value(change.value)} by {change.author}, "
              f"{shown_time(change.at)}. {change.reason}")  # fmt: skip
    return EXIT_OK


def _value(value: object) -> str:
    """A field's value in a sentence: text in quotes, nothing as (empty)."""
    if value is None or value == "":
        return "(empty)"
    return f"'{value}'" if isinstance(value, str) else str(value)


def _workspace_file(args: argparse.Namespace) -> Path:
    """The SQLite file of ``--db``; backups are of files, a team database has its server's."""
    from storage.backups import BackupError
    from storage.workspace import sqlite_file

    path = sqlite_file(args.db)
    if path is None:
        raise BackupError(
            "Accord backs up SQLite workspace files; back a team database up on its server "
            "(for example with pg_dump)."
        )
    return path


def _cmd_backups(args: argparse.Namespace) -> int:
    from domain.backups import shown_size
    from domain.values import shown_time
    from storage.backups import folder, listed

    workspace = _workspace_file(args)
    found = listed(workspace)
    print(f"{counted(len(found), 'backup')} of {workspace} in {folder(workspace)}")
    for backup, what in found:
        size = shown_size(backup.size)
        print(f"{shown_time(backup.made)}  {size:>10}  {what:<30}  {backup.path}")
    return EXIT_OK


def _cmd_restore(args: argparse.Namespace) -> int:
    from storage.backups import restore

    workspace = _workspace_file(args)
    aside = restore(workspace, args.backup.expanduser().resolve())
    kept = f"; the file it replaced is kept as {aside}" if aside else ""
    print(f"Restored {workspace} from {args.backup}{kept}.")
    return EXIT_OK


def _cmd_exceptions(args: argparse.Namespace) -> int:
    from domain.errors import NotFound
    from domain.interactions import grant_exception, revoke_exception
    from domain.values import shown_time
    from storage.interactions import exceptions
    from storage.read_models.dossier_print import find_account
    from storage.repositories import SqlUnitOfWork

    workspace = _open(args)
    user = _who(workspace, args)
    if args.what == "list":
        with workspace.read() as conn:
            listed = exceptions(conn, include_revoked=args.revoked)
        for exception, account in listed:
            ended = (f"\trevoked by {exception.revoked_by} {shown_time(exception.revoked_at)}"
                     if exception.revoked_at else "")  # fmt: skip
            print(f"{exception.rep}\t{account}\t{exception.reason}\tgranted by "
                  f"{exception.granted_by} {shown_time(exception.granted_at)}{ended}")  # fmt: skip
        if not listed:
            print("No exception to the target list is in force." if not args.revoked
                  else "No exception to the target list was ever granted.")  # fmt: skip
        return EXIT_OK
    account_id = find_account(workspace, args.account)
    uow = SqlUnitOfWork(workspace)
    if args.what == "grant":
        grant_exception(uow, user, args.rep, account_id, args.reason)
    with workspace.read() as conn:
        held = [(e, name) for e, name in exceptions(conn)
                if e.rep == args.rep and e.account_id == account_id]  # fmt: skip
    if args.what == "grant":
        print(f"{args.rep} may now log calls and visits against {held[0][1]}.")
        return EXIT_OK
    if not held:
        raise NotFound(f"{args.rep} has no exception for {args.account} to revoke.")
    exception, account = held[0]
    revoke_exception(uow, user, exception.id)
    print(f"{args.rep} may no longer log against {account}: the exception is revoked.")
    return EXIT_OK


def _cmd_goal(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from domain.goal import Goal, set_goal
    from domain.periods import Month, Period
    from domain.report import Figure, Scope, shown_value
    from storage.agreements import current_calendar
    from storage.goals import SqlGoalStore, current_goal
    from storage.read_models.goal_progress import described, goal_figures

    if args.what == "set":
        workspace = _open(args, create=True)
        user = _who(workspace, args)
        goal = Goal.from_document({
            "metric": args.metric, "target": _typed_number(args.target), "start": args.start,
            "months": _typed_number(args.months),
            "owners": [name.strip() for name in args.owners.split(",") if name.strip()],
        })  # fmt: skip
        saved = set_goal(SqlGoalStore(workspace), user, goal)
        print(f"Goal set. {described(saved)}")
        return EXIT_OK
    workspace = _open(args)
    with workspace.read() as conn:
        version = current_goal(conn)
        if version is None:
            print("No shared goal is set yet: the owner sets it with accord goal set.")
            return EXIT_OK
        now = datetime.now(UTC)
        scope = Scope(Period(Month.of(now.date()), Month.of(now.date())),
                      current_calendar(conn), now)  # fmt: skip
        figures = goal_figures(conn, scope)

    def said(figure: Figure) -> str:
        if figure.value is None:
            return f"{figure.label}: none ({figure.basis})"
        value = f"{figure.label}: {shown_value(figure)}"
        return value + (f" ({figure.basis})" if figure.basis else "")

    print(described(version))
    print("; ".join(said(figure) for figure in figures) + ".")
    return EXIT_OK


def _typed_number(text: str) -> int | str:
    """A whole number as typed (``400,000``, ``400_000``), or the text, for the goal to
    refuse by its key."""
    try:
        return int(text.replace(",", "").replace("_", "").strip())
    except ValueError:
        return text


def _cmd_plan(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from domain.plan import Side, side_of, sign_plan
    from domain.values import shown_time
    from storage.plan import SqlPlanStore

    workspace = _open(args)
    store = SqlPlanStore(workspace)
    if args.what == "sign":
        user = _who(workspace, args)
        side = Side(args.side) if args.side else side_of(user)
        signed = sign_plan(store, user, side, datetime.now(UTC))
        print(f"{signed.signed_by} signed the plan for {signed.side} on "
              f"{shown_time(signed.signed_at)}.")  # fmt: skip
    state = store.plan_state()
    for line in state.summary():
        print(line)
    for part, version in state.current.parts():
        print(f"{part}\t{version}")
    return EXIT_OK


def _cmd_users(args: argparse.Namespace) -> int:
    from domain.users import Role, add_user
    from storage.users import SqlUserStore, list_users

    workspace = _open(args, create=True)
    if args.add:
        store = SqlUserStore(workspace)
        added = add_user(store, _who(workspace, args), args.add, Role(args.role), args.login)
        print(f"{added.name}: {added.role}")
    for user in list_users(workspace):
        print(f"{user.name}\t{user.role}")
    return EXIT_OK


def _cmd_team(args: argparse.Namespace) -> int:
    from domain.users import set_up_team
    from storage.team import GROUPS
    from storage.users import SqlUserStore

    workspace = _open(args)
    set_up_team(SqlUserStore(workspace), _who(workspace, args))
    print(f"{workspace.label}: each person's login now works as their role "
          f"({', '.join(GROUPS.values())}). Add people with: accord users --add NAME --role rep "
          "--login")  # fmt: skip
    return EXIT_OK


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "demo": _cmd_demo,
    "import": _cmd_import,
    "undo-import": _cmd_undo_import,
    "export": _cmd_export,
    "log": _cmd_log,
    "icp": _cmd_icp,
    "sla": _cmd_sla,
    "calendar": _cmd_calendar,
    "targets": _cmd_targets,
    "queue": _cmd_queue,
    "report": _cmd_report,
    "exceptions": _cmd_exceptions,
    "goal": _cmd_goal,
    "plan": _cmd_plan,
    "users": _cmd_users,
    "backups": _cmd_backups,
    "restore": _cmd_restore,
    "team": _cmd_team,
    "checkout": _cmd_checkout,
    "sync": _cmd_sync,
    "conflicts": _cmd_conflicts,
}

if __name__ == "__main__":
    sys.exit(main())
