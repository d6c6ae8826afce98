"""`alpr reads search`: search stored reads; a purpose and a case number are required, and the
searcher is a trained account proven by password and one-time code (policy 462.3(d), 462.5(b))."""

from __future__ import annotations

from gateway.store import audit
from gateway.store.reads import search_reads
from tools.cli import common
from tools.cli.commands import _store_cli as sc


def register(subparsers) -> None:
    parser = subparsers.add_parser("reads", help="stored reads (every search is recorded)")
    sub = parser.add_subparsers(dest="reads_cmd", metavar="ACTION")
    sub.required = True
    p = sub.add_parser("search", help="search reads by plate (* and ? wildcards), time, board, area")
    p.add_argument("pattern", nargs="?", default="", help="plate or partial plate, e.g. 7AB*")
    p.add_argument("--purpose", required=True, help="official purpose (policy 462.3(a))")
    p.add_argument("--case", required=True, dest="case_number", help="case or incident number")
    p.add_argument("--since", help="ISO date or date-time, UTC")
    p.add_argument("--until", help="ISO date-time, UTC, or a date: through the end of that day")
    p.add_argument("--board", default="")
    p.add_argument("--bbox", help="min_lat,min_lon,max_lat,max_lon")
    p.add_argument("--limit", type=int, default=100)
    sc.add_person(p, "search")
    common.add_json(p)
    p.set_defaults(func=do_search)


def _bbox(text: str | None):
    if not text:
        return None
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4:
        raise sc.UsageError("--bbox takes min_lat,min_lon,max_lat,max_lon, e.g. 37.7,-122.2,37.8,-122.1")
    return values


def do_search(args) -> int:
    if not args.purpose.strip() or not args.case_number.strip():
        raise sc.UsageError("a search needs a purpose and a case number (policy 462.3(a))")
    since, until = sc.when(args.since, "--since"), sc.until(args.until)
    bbox = _bbox(args.bbox)
    st = sc.store(args)
    who = sc.person(args, st, "`alpr reads search`")
    query = " ".join(part for part in (args.pattern, args.since and f"since {args.since}",
                                       args.until and f"until {args.until}",
                                       args.board and f"board {args.board}",
                                       args.bbox and f"bbox {args.bbox}") if part)
    try:
        reads = search_reads(args.pattern, since, until, args.board, bbox, limit=args.limit)
    except Exception as exc:
        audit.record("reads.search", username=who, query=query, purpose=args.purpose,
                     case_number=args.case_number, outcome="error", detail=str(exc))
        raise
    audit.record("reads.search", username=who, query=query, purpose=args.purpose,
                 case_number=args.case_number,
                 # which reads were shown, not only how many (policy 462.5(b), 462.5(e))
                 detail=f"{len(reads)} reads: ids " + ",".join(str(r.id) for r in reads))
    rows = [{"id": r.id, "plate": r.plate, "confidence": r.confidence, "seen_at": r.seen_at,
             "board_id": r.board_id, "latitude": r.latitude, "longitude": r.longitude,
             "upload_state": r.upload_state, "crop_sha256": r.crop_sha256} for r in reads]
    human = "\n".join(f"{r['id']:>7} {r['plate']:10} {r['seen_at']} {r['board_id']}"
                      for r in rows) or "no reads"
    common.emit({"reads": rows}, args.json, human)
    return 0
