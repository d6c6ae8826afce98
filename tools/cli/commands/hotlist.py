"""`alpr hotlist ...`: import lists, match a plate, officer entries."""

from __future__ import annotations

from gateway.hotlist import match, wanted
from gateway.hotlist.importer import PARSERS, import_file
from gateway.store import audit
from gateway.store.models import HotlistList
from tools.cli import common
from tools.cli.commands import _store_cli as sc


def register(subparsers) -> None:
    parser = subparsers.add_parser("hotlist", help="hotlists: import, match, officer entries")
    sub = parser.add_subparsers(dest="hotlist_cmd", metavar="ACTION")
    sub.required = True

    p = sub.add_parser("import", help="replace a list atomically from a file")
    p.add_argument("file")
    p.add_argument("--format", required=True, choices=sorted(PARSERS))
    p.add_argument("--list", required=True, dest="list_name", metavar="NAME")
    p.add_argument("--priority", type=int, choices=range(1, 10), metavar="1-9",
                   help="alert order, 1 = highest (kept from the last import if omitted; a new list "
                        "from clew or ncic starts at 2, from csv at 5)")
    p.add_argument("--covert", action="store_true", default=None,
                   help="alerts from this list are never shown in the car")
    sc.add_user(p)
    common.add_json(p)
    p.set_defaults(func=do_import)

    p = sub.add_parser("match", help="match a plate (and more OCR candidates) against every list")
    p.add_argument("plate")
    p.add_argument("candidates", nargs="*", help="further OCR candidates, best first")
    sc.add_user(p)
    common.add_json(p)
    p.set_defaults(func=do_match)

    p = sub.add_parser("lists", help="the lists held and their sizes")
    common.add_json(p)
    p.set_defaults(func=do_lists)

    p = sub.add_parser("add", help="an officer's new wanted entry (partial plates with * and ?)")
    p.add_argument("plate")
    p.add_argument("--reason", required=True)
    p.add_argument("--case", required=True, dest="case_number")
    p.add_argument("--expires", required=True,
                   help="ISO date (the entry holds through that day) or date-time, UTC")
    p.add_argument("--state", default="")
    p.add_argument("--description", default="")
    # it shows the stored reads the new entry matches: a proven, trained account
    sc.add_person(p, "wanted")
    common.add_json(p)
    p.set_defaults(func=do_add)


def do_import(args) -> int:
    sc.store(args)
    result = import_file(args.file, args.format, args.list_name, username=sc.user(args),
                         priority=args.priority, covert=args.covert)
    common.emit(result.as_dict(), args.json,
                f"{result.list}: {result.entries} entries imported (replacing {result.replaced}) "
                f"in {result.seconds:.1f} s")
    return 0


def do_match(args) -> int:
    sc.store(args)
    hits = match.get_matcher().match([args.plate, *args.candidates])
    audit.record("hotlist.match", username=sc.user(args), query=" ".join([args.plate, *args.candidates]),
                 detail=f"{len(hits)} hits")
    out = {"plate": args.plate, "hits": [hit.as_dict() for hit in hits]}
    human = "no hits" if not hits else "\n".join(
        f"{h.list:12} {h.entry:10} {h.kind:8} {h.quality:.2f}" for h in hits)
    common.emit(out, args.json, human)
    return 0


def do_lists(args) -> int:
    sc.store(args)
    rows = [{"name": lst.name, "source": lst.source, "entries": lst.record_count,
             "priority": lst.priority, "covert": lst.covert, "from_clets": lst.from_clets,
             "imported_at": lst.imported_at}
            for lst in HotlistList.select().order_by(HotlistList.priority, HotlistList.name)]
    human = "\n".join(f"{r['name']:12} {r['source']:8} {r['entries']:>9} priority {r['priority']}"
                      f"{' covert' if r['covert'] else ''}" for r in rows) or "no lists"
    common.emit(rows, args.json, human)
    return 0


def do_add(args) -> int:
    expires = sc.expiry(args.expires)
    st = sc.store(args)
    who = sc.person(args, st, "`alpr hotlist add`")
    entry, found = wanted.add_wanted(args.plate, reason=args.reason, case_number=args.case_number,
                                     expires_at=expires, username=who, state=args.state,
                                     description=args.description)
    out = {"entry_id": entry.id, "plate": entry.plate, "expires_at": entry.expires_at,
           "matching_reads": [{"id": r.id, "plate": r.plate, "seen_at": r.seen_at,
                               "kind": kind, "quality": round(q, 3)} for r, kind, q in found]}
    human = f"entry {entry.id} added; {len(found)} stored reads match" + "".join(
        f"\n  read {r.id} {r.plate} {r.seen_at} {kind} {q:.2f}" for r, kind, q in found)
    common.emit(out, args.json, human)
    return 0
