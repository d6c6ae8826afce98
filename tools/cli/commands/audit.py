"""`alpr audit verify|list`: the access record and its hash chain."""

from __future__ import annotations

from gateway.accounts.users import normalise_username
from gateway.store import audit
from gateway.store.models import AccessRecord
from tools.cli import common
from tools.cli.commands import _store_cli as sc


def register(subparsers) -> None:
    parser = subparsers.add_parser("audit", help="the access record")
    sub = parser.add_subparsers(dest="audit_cmd", metavar="ACTION")
    sub.required = True
    p = sub.add_parser("verify", help="check the hash chain; exit 1 where it is broken")
    sc.add_user(p)
    common.add_json(p)
    p.set_defaults(func=do_verify)
    p = sub.add_parser("list", help="the latest access records")
    p.add_argument("--limit", type=common.at_least(1), default=50)
    p.add_argument("--action", default="", help="only this action, e.g. reads.search")
    # not --user, which names who is acting (and reading the record), as in every other command
    p.add_argument("--of", default="", metavar="NAME", dest="of_user",
                   help="only the records of this account (what it did)")
    sc.add_user(p)
    common.add_json(p)
    p.set_defaults(func=do_list)


def do_verify(args) -> int:
    sc.store(args)
    result = audit.verify()
    # Checking the record is itself an access to it (CJIS AU-2).
    audit.record("audit.verify", username=sc.user(args), outcome="ok" if result.ok else "broken",
                 detail=result.reason)
    human = (f"intact: {result.checked} records" if result.ok else
             f"BROKEN at record {result.broken_at_id}: {result.reason} "
             f"({result.checked} records checked before it)")
    common.emit(result.as_dict(), args.json, human)
    return 0 if result.ok else 1


def do_list(args) -> int:
    sc.store(args)
    query = AccessRecord.select().order_by(AccessRecord.id.desc()).limit(args.limit)
    if args.action:
        query = query.where(AccessRecord.action == args.action)
    if args.of_user:
        query = query.where(AccessRecord.username == normalise_username(args.of_user))
    rows = [{"id": r.id, "at": r.at, "username": r.username, "agency": r.agency,
             "terminal": r.terminal, "action": r.action, "query": r.query, "purpose": r.purpose,
             "case_number": r.case_number, "outcome": r.outcome, "detail": r.detail}
            for r in query]
    shown = " ".join(f"{k}={v}" for k, v in (("action", args.action), ("of", args.of_user)) if v)
    audit.record("audit.list", username=sc.user(args), query=shown,
                 detail=f"{len(rows)} records shown")
    human = "\n".join(f"{r['id']:>6} {r['at']} {r['username']:12} {r['action']:18} {r['outcome']:8} "
                      f"{r['query']}" for r in rows) or "no records"
    common.emit(rows, args.json, human)
    return 0
