"""`alpr retention run`: purge on day 366, drop delivered copies after the cache, check disk."""

from __future__ import annotations

from gateway.store import retention
from tools.cli import common
from tools.cli.commands import _store_cli as sc


def register(subparsers) -> None:
    parser = subparsers.add_parser("retention", help="retention (policy 462.4)")
    sub = parser.add_subparsers(dest="retention_cmd", metavar="ACTION")
    sub.required = True
    p = sub.add_parser("run", help="purge what policy says must go; recorded in the access record")
    p.add_argument("--now", help="pretend it is this UTC time (ISO); for checks and drills")
    sc.add_user(p)
    common.add_json(p)
    p.set_defaults(func=do_run)


def do_run(args) -> int:
    st = sc.store(args)
    result = retention.run(st.images, st.config.store, now=sc.when(args.now, "--now"),
                           username=sc.user(args))
    out = result.as_dict()
    human = (f"purged {result.purged_reads} reads on day {st.config.store.retention_days + 1} "
             f"({result.purged_undelivered} never delivered); {result.cache_removed_reads} "
             f"delivered reads past the cache removed; {result.removed_images} images removed "
             f"(and {result.orphan_images} no read referred to); "
             f"{result.held_past_retention} kept under hold; {result.free_mb:.0f} MB free")
    if result.warning:
        human += f"\nWARNING: {result.warning['message']}"
    common.emit(out, args.json, human)
    return 0
