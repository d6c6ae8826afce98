"""`alpr evidence hold|lift|holds|export`: evidence holds and exports to portable media.

Holding, lifting and exporting act on stored reads for a person, so they take a
proven account whose role may manage holds and exports (`admin`, as on the web).
"""

from __future__ import annotations

from pathlib import Path

from gateway.store import audit, evidence, holds
from gateway.store.reads import search_reads
from tools.cli import common
from tools.cli.commands import _store_cli as sc


def register(subparsers) -> None:
    parser = subparsers.add_parser("evidence", help="evidence holds and exports")
    sub = parser.add_subparsers(dest="evidence_cmd", metavar="ACTION")
    sub.required = True

    p = sub.add_parser("hold", help="keep reads past day 365 for a case or records request")
    p.add_argument("--reads", required=True, help="read ids, comma separated")
    p.add_argument("--case", required=True, dest="case_number")
    p.add_argument("--reason", default="")
    p.add_argument("--kind", default="evidence", choices=holds.HOLD_KINDS)
    sc.add_person(p, "admin")
    common.add_json(p)
    p.set_defaults(func=do_hold)

    p = sub.add_parser("lift", help="lift a case's holds")
    p.add_argument("--case", required=True, dest="case_number")
    p.add_argument("--reads", help="only these read ids")
    p.add_argument("--reason", default="")
    sc.add_person(p, "admin")
    common.add_json(p)
    p.set_defaults(func=do_lift)

    p = sub.add_parser("holds", help="active holds")
    p.add_argument("--case", default="", dest="case_number")
    sc.add_user(p)
    common.add_json(p)
    p.set_defaults(func=do_holds)

    p = sub.add_parser("export", help="write reads to a folder: images, JSON, manifest, custody sheet")
    p.add_argument("--out", required=True, help="a new or empty folder (on the portable media)")
    p.add_argument("--case", required=True, dest="case_number")
    p.add_argument("--purpose", required=True)
    p.add_argument("--reads", help="read ids, comma separated")
    p.add_argument("--plate", help="or: every read of this plate (* and ? wildcards)")
    p.add_argument("--since")
    p.add_argument("--until", help="with --plate: seen before (a date: through the end of that day)")
    p.add_argument("--released-to", default="", metavar="AGENCY/OFFICIAL",
                   help="a release to another agency (policy 462.5(d)): who receives the media, "
                        "recorded in the access record and on the custody sheet")
    sc.add_person(p, "admin")
    common.add_json(p)
    p.set_defaults(func=do_export)


def do_hold(args) -> int:
    read_ids = sc.ids(args.reads, "--reads")
    st = sc.store(args)
    who = sc.person(args, st, "`alpr evidence hold`")
    placed = holds.place(read_ids, args.case_number, who, reason=args.reason, kind=args.kind)
    common.emit({"placed": [h.id for h in placed], "case_number": args.case_number}, args.json,
                f"{len(placed)} reads held for {args.case_number}")
    return 0


def do_lift(args) -> int:
    read_ids = sc.ids(args.reads, "--reads") if args.reads else None
    st = sc.store(args)
    who = sc.person(args, st, "`alpr evidence lift`")
    count = holds.lift(args.case_number, who, read_ids, reason=args.reason)
    common.emit({"lifted": count, "case_number": args.case_number}, args.json,
                f"{count} holds lifted for {args.case_number}")
    return 0


def do_holds(args) -> int:
    sc.store(args)
    who = sc.user(args)
    rows = [{"id": h.id, "read_id": h.read_id, "kind": h.kind, "case_number": h.case_number,
             "placed_by": h.placed_by, "placed_at": h.placed_at, "reason": h.reason}
            for h in holds.active(args.case_number)]
    # case numbers and the reads they hold are themselves an access, as on the web's holds page
    audit.record("holds_viewed", username=who, query=args.case_number or "all", detail=f"{len(rows)} holds")
    human = "\n".join(f"{r['id']:>5} read {r['read_id']:>7} {r['kind']:15} {r['case_number']:12} "
                      f"{r['placed_by']} {r['placed_at']}" for r in rows) or "no active holds"
    common.emit(rows, args.json, human)
    return 0


def do_export(args) -> int:
    if bool(args.reads) == bool(args.plate):
        raise sc.UsageError("give either --reads IDS or --plate PATTERN")
    since, until = sc.when(args.since, "--since"), sc.until(args.until)
    read_ids = sc.ids(args.reads, "--reads") if args.reads else None
    evidence.check_released_to(args.released_to)  # before the one-time code is spent
    st = sc.store(args)
    who = sc.person(args, st, "`alpr evidence export`")
    if read_ids is None:
        found = search_reads(args.plate, since, until, limit=100_000)
        read_ids = [r.id for r in found]
        if not read_ids:
            raise evidence.ExportError(f"no stored reads match {args.plate!r}; nothing exported")
    summary = evidence.export(read_ids, Path(args.out), st.images, username=who,
                              case_number=args.case_number, purpose=args.purpose,
                              agency=st.config.agency.agency, terminal=st.config.agency.terminal,
                              released_to=args.released_to)
    human = (f"{summary['reads']} reads exported to {summary['folder']} ({summary['files']} files); "
             f"manifest sha256 {summary['manifest_sha256']}")
    if summary["missing_images"]:
        human += f"\nnote: {len(summary['missing_images'])} images were already pruned"
    common.emit(summary, args.json, human)
    return 0
