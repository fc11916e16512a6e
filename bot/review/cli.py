"""The dashboard's command line (python -m bot ...):

    python -m bot users add NAME --role admin|coordinator|mentor [--cohort CODE ...] [--slack-user U123]
                                   (asks for the password)
    python -m bot users slack NAME [U123]   set (or, without an id, clear) a mentor's Slack user id
    python -m bot users list
    python -m bot users password NAME
    python -m bot users cohorts NAME CODE [CODE ...]
    python -m bot users remove NAME
    python -m bot review update      read new events from the tracker into the read model
    python -m bot review rebuild     throw the read model away and read the whole tracker again
    python -m bot review forget SENDER_ID
    python -m bot nlu export [--out data/nlu/reviewed.yml]
                                   the inbox's corrections as Rasa training data (bot/review/nlu_export.py)

A password can also come from the REVIEW_PASSWORD environment variable (for
scripts); it is never taken from the command line, where `ps` would show it.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from pathlib import Path
from typing import List, Optional

from bot.review.auth import AuthError, Users
from bot.review.db import ReviewDB
from bot.review.models import ROLES


def _password() -> str:
    if os.environ.get("REVIEW_PASSWORD"):
        return os.environ["REVIEW_PASSWORD"]
    first = getpass.getpass("Password (10 characters or more): ")
    if getpass.getpass("Again: ") != first:
        raise AuthError("the two passwords differ")
    return first


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Rapport's command line")
    groups = parser.add_subparsers(dest="group", required=True)
    users = groups.add_parser("users", help="the review dashboard's users").add_subparsers(
        dest="command", required=True
    )
    add = users.add_parser("add", help="add a user (asks for the password)")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, default="coordinator")
    add.add_argument("--cohort", action="append", default=[], help="a cohort code (repeat for several)")
    add.add_argument(
        "--slack-user",
        default=None,
        help="a mentor's Slack member id (U...): the Slack app's "
        "/canvas and Home tab then give them their cohorts' founders",
    )
    users.add_parser("list", help="list the users")
    password = users.add_parser("password", help="set a user's password (ends their sessions)")
    password.add_argument("username")
    cohorts = users.add_parser("cohorts", help="set a coordinator's or mentor's cohorts")
    cohorts.add_argument("username")
    cohorts.add_argument("cohorts", nargs="+")
    slack = users.add_parser("slack", help="set or clear a mentor's Slack member id")
    slack.add_argument("username")
    slack.add_argument("slack_user", nargs="?", default="")
    remove = users.add_parser("remove", help="remove a user")
    remove.add_argument("username")
    review = groups.add_parser("review", help="the review dashboard's read model").add_subparsers(
        dest="command", required=True
    )
    review.add_parser("update", help="read new tracker events into the read model")
    review.add_parser("rebuild", help="rebuild the read model from the whole tracker")
    forget = review.add_parser("forget", help="remove a founder from the read model and the dashboard")
    forget.add_argument("sender_id")
    nlu = groups.add_parser("nlu", help="training data from the review dashboard's inbox").add_subparsers(
        dest="command", required=True
    )
    export = nlu.add_parser("export", help="write the inbox's corrections to data/nlu/reviewed.yml")
    export.add_argument("--out", type=Path, default=None, help="where to write (default data/nlu/reviewed.yml)")
    args = parser.parse_args(argv)

    db = ReviewDB()
    try:
        if args.group == "users":
            # The signing key plays no part in managing users.
            accounts = Users(db, os.environ.get("REVIEW_SECRET_KEY") or "x" * 32)
            if args.command == "add":
                account = accounts.add(args.username, _password(), args.role, args.cohort, args.slack_user)
                slack_user = f", Slack {account.slack_user_id}" if account.slack_user_id else ""
                print(
                    f"added {account.username} ({account.role}"
                    f"{': ' + ', '.join(sorted(account.cohorts)) if account.cohorts else ''}{slack_user})"
                )
            elif args.command == "list":
                for account in accounts.list():
                    print(
                        f"{account.username}\t{account.role}\t{','.join(sorted(account.cohorts)) or '-'}"
                        f"\t{account.slack_user_id or '-'}"
                    )
            elif args.command == "password":
                accounts.set_password(args.username, _password())
                print(f"password of {args.username} changed; their sessions ended")
            elif args.command == "cohorts":
                accounts.set_cohorts(args.username, args.cohorts)
                print(f"{args.username}: {', '.join(args.cohorts)}")
            elif args.command == "slack":
                accounts.set_slack_user(args.username, args.slack_user)
                print(f"{args.username}: Slack user {args.slack_user.strip() or 'cleared'}")
            elif args.command == "remove":
                accounts.remove(args.username)
                print(f"removed {args.username}")
        elif args.group == "nlu":
            from bot.review.nlu_data import REVIEWED
            from bot.review.nlu_export import export as export_corrections
            from bot.review.read_model import ReadModel
            from bot.review.tracker import TrackerEvents

            # Founders who deleted their data leave the read model first: their words are never written.
            tracker = TrackerEvents()
            try:
                ReadModel(db, tracker).update(sweep=True)
            finally:
                tracker.close()
            out = args.out or REVIEWED
            for line in export_corrections(db, out).lines(out):
                print(line)
        else:
            from bot.review.read_model import ReadModel
            from bot.review.tracker import TrackerEvents

            tracker = TrackerEvents()
            model = ReadModel(db, tracker)
            started = time.monotonic()
            if args.command == "rebuild":
                count = model.rebuild()
                print(f"read model rebuilt: {count} conversations in {time.monotonic() - started:.1f} s")
            elif args.command == "update":
                count = model.update(sweep=True)
                print(f"read model updated: {count} conversations read again")
            else:
                model.forget(args.sender_id)
                print(f"forgot {args.sender_id}")
            tracker.close()
    except AuthError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        db.close()
    return 0
