"""`alpr regional ...`: the reference regional server and its certificates.

    alpr regional init --dir R --host 127.0.0.1 --host regional.example.org
    alpr regional issue-car --dir R car-7 [--install --server-url https://...]
    alpr regional revoke --dir R car-7
    alpr regional serve --dir R [--db postgresql://...] [--port 8444]
    alpr regional publish-hotlist --dir R svs hotlist.csv
    alpr regional purge --dir R --user NAME
    alpr regional hold --dir R --case C --reason TEXT --reads UID,... --user NAME
    alpr regional hold --dir R --case C --reason TEXT --plate 7ABC* --since D --until D --user NAME
    alpr regional lift --dir R --case C --user NAME
    alpr regional export --dir R --case C --purpose P --out /media/usb/C --user NAME
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from tools.cli.common import add_json, at_least, datadir, emit, listen_port

logger = logging.getLogger(__name__)


def register(subparsers) -> None:
    parser = subparsers.add_parser("regional", help="the reference regional server and its PKI")
    sub = parser.add_subparsers(dest="regional", metavar="ACTION")
    sub.required = True

    def common(p):
        p.add_argument("--dir", default="./regional", help="the server's folder (PKI and database)")
        add_json(p)
        return p

    p = common(sub.add_parser("init", help="make the region's CA and the server certificate"))
    p.add_argument("--host", action="append", default=[],
                   help="a name or IP the cars use for the server (repeat); default 127.0.0.1")
    p.set_defaults(func=do_init)

    p = common(sub.add_parser("issue-car", help="issue a client certificate for one car"))
    p.add_argument("terminal", help="the car's terminal id (certificate common name)")
    p.add_argument("--install", action="store_true",
                   help="install it into this machine's car data folder (--data) and enable upload")
    p.add_argument("--server-url", default="https://127.0.0.1:8444", help="with --install")
    p.set_defaults(func=do_issue)

    p = common(sub.add_parser("revoke", help="revoke every certificate issued to a car; the "
                                             "server refuses them"))
    p.add_argument("terminal")
    p.set_defaults(func=do_revoke)

    p = common(sub.add_parser("serve", help="run the regional server (HTTPS, client certificates)"))
    p.add_argument("--db", default="", help="SQLite path or database URL (postgresql://...); "
                   "default DIR/regional.db")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=listen_port, default=8444,
                   help="1-65535, or 0 for any free port (default 8444)")
    p.add_argument("--error-rate", type=float, default=0.0,
                   help="answer this share of uploads 500 after storing them (to test cars)")
    p.add_argument("--delay-s", type=float, default=0.0, help="answer uploads this late")
    p.set_defaults(func=do_serve)

    p = common(sub.add_parser("publish-hotlist", help="publish (replace) a hotlist for the cars"))
    p.add_argument("name")
    p.add_argument("file", help="CSV: plate,state,list,description[,expires]")
    p.add_argument("--db", default="")
    p.add_argument("--priority", type=int, default=5)
    p.add_argument("--covert", action="store_true")
    p.add_argument("--description", default="")
    p.set_defaults(func=do_publish)

    p = common(sub.add_parser("purge", help="apply the one-year retention now"))
    p.add_argument("--db", default="")
    p.add_argument("--days", type=at_least(1), default=365,
                   help="purge reads older than this (default 365, policy 462.4); fewer needs "
                        "--override-policy")
    p.add_argument("--override-policy", metavar="REASON", default="",
                   help="why reads younger than 365 days must go (recorded in the access record)")
    add_user(p)
    p.set_defaults(func=do_purge)

    p = common(sub.add_parser("hold", help="keep reads past day 365 for a case (evidence hold)"))
    p.add_argument("--db", default="")
    p.add_argument("--case", required=True)
    p.add_argument("--reason", required=True, help="why (recorded in the access record)")
    p.add_argument("--reads", help="read uids, comma separated")
    p.add_argument("--plate", help="or: every read of this plate (* and ? wildcards)")
    p.add_argument("--since", help="with --plate: seen at or after (YYYY-MM-DD[THH:MM:SS], UTC)")
    p.add_argument("--until", help="with --plate: seen before (a date: through the end of that day)")
    add_user(p)
    p.set_defaults(func=do_hold)

    p = common(sub.add_parser("lift", help="lift a case's holds; its reads age out as usual"))
    p.add_argument("--db", default="")
    p.add_argument("--case", required=True)
    p.add_argument("--reason", default="")
    add_user(p)
    p.set_defaults(func=do_lift)

    p = common(sub.add_parser("export", help="write the reads held for a case to portable media "
                                             "(images, JSON, manifest, custody sheet)"))
    p.add_argument("--db", default="")
    p.add_argument("--case", required=True, help="the case whose held reads are exported")
    p.add_argument("--purpose", required=True, help="why (recorded in the access record)")
    p.add_argument("--out", required=True, help="a new or empty folder (on the portable media)")
    p.add_argument("--released-to", default="", metavar="AGENCY/OFFICIAL",
                   help="a release to another agency (policy 462.5(d)): who receives the media")
    add_user(p)
    p.set_defaults(func=do_export)


def add_user(p) -> None:
    # The reference server has no accounts: the name is recorded as given (README).
    p.add_argument("--user", required=True, metavar="NAME",
                   help="who is acting; recorded by name in the center's access record")


def _pki(args) -> Path:
    return Path(args.dir) / "pki"


def _db(args) -> str:
    return args.db or str(Path(args.dir) / "regional.db")


def do_init(args) -> int:
    from tools.regional import pki

    hosts = args.host or ["127.0.0.1", "localhost"]
    pki.init_ca(_pki(args), hosts)
    pin = pki.cert_sha256(_pki(args) / "server.pem")
    emit({"pki": str(_pki(args)), "hosts": hosts, "server_pin_sha256": pin}, args.json,
         f"PKI in {_pki(args)} for {', '.join(hosts)}\nserver pin (SHA-256): {pin}")
    return 0


def do_issue(args) -> int:
    from tools.regional import pki
    from tools.regional.provision import check_server_url

    if args.install:
        check_server_url(args.server_url)  # before a certificate is issued for nothing
    bundle = pki.issue_car(_pki(args), args.terminal)
    out = {"terminal": bundle.terminal, "cert": str(bundle.cert), "key": str(bundle.key),
           "ca": str(bundle.ca), "serial": f"{bundle.serial:x}",
           "server_pin_sha256": bundle.server_pin_sha256}
    if args.install:
        from tools.regional.provision import install_car

        data = datadir(args)
        install_car(bundle, data, args.server_url)
        out["installed_in"] = str(data.root)
    emit(out, args.json, "\n".join(f"{k}: {v}" for k, v in out.items()))
    return 0


def do_revoke(args) -> int:
    from tools.regional import pki

    serials = [f"{s:x}" for s in pki.revoke_car(_pki(args), args.terminal)]
    emit({"terminal": args.terminal, "revoked": len(serials), "revoked_serials": serials},
         args.json,
         f"revoked {len(serials)} certificate(s) of car {args.terminal} "
         f"(serials {', '.join(serials)}); the server refuses them from now on")
    return 0


def do_serve(args) -> int:
    from tools.regional.serve import make_server, serve_forever

    faults = {"error_rate": args.error_rate, "delay_s": args.delay_s}
    server = make_server(_db(args), _pki(args), args.host, args.port, {"FAULTS": faults})
    port = server.server_address[1]
    emit({"url": f"https://{args.host}:{port}", "db": _db(args)}, args.json,
         f"regional server on https://{args.host}:{port} (database {_db(args)}); Ctrl-C stops")
    sys.stdout.flush()
    serve_forever(server)
    return 0


def do_publish(args) -> int:
    from tools.regional.hotlists import publish, read_csv
    from tools.regional.models import open_regional

    records = read_csv(Path(args.file))  # a bad file is refused before any database is made
    open_regional(_db(args))
    row = publish(args.name, records, args.priority, args.covert, args.description)
    emit({"name": row.name, "version": row.version, "record_count": row.record_count}, args.json,
         f"hotlist {row.name}: {row.record_count} records, version {row.version[:12]}")
    return 0


def do_purge(args) -> int:
    from tools.regional import holds
    from tools.regional.models import open_regional
    from tools.regional.retention import purge

    # a blank name would be recorded as the server's own daily run: refused, as for hold and lift
    user = holds.person(args.user)
    open_regional(_db(args))
    count = purge(days=args.days, override_reason=args.override_policy, user=user)
    emit({"purged": count}, args.json, f"{count} reads purged")
    return 0


def do_hold(args) -> int:
    from tools.cli.commands._store_cli import UsageError, until, when
    from tools.regional import holds
    from tools.regional.models import open_regional

    if bool(args.reads) == bool(args.plate):
        raise UsageError("give either --reads UID,... or --plate PATTERN")
    if args.reads and (args.since or args.until):
        raise UsageError("--since and --until go with --plate")
    holds.person(args.user)
    since, before = when(args.since, "--since"), until(args.until)
    uids = [u for u in (args.reads or "").replace(" ", "").split(",") if u]
    open_regional(_db(args))
    reads = holds.select_reads(uids or None, args.plate or "", since, before)
    placed = holds.place(reads, args.case, args.user, args.reason)
    emit({"case": args.case, "held": placed, "matched": len(reads), "user": args.user}, args.json,
         f"{placed} reads held for {args.case} ({len(reads)} matched) by {args.user}")
    return 0


def do_lift(args) -> int:
    from tools.regional import holds
    from tools.regional.models import open_regional

    holds.person(args.user)
    open_regional(_db(args))
    count = holds.lift(args.case, args.user, args.reason)
    emit({"case": args.case, "lifted": count, "user": args.user}, args.json,
         f"{count} holds lifted for {args.case} by {args.user}")
    return 0


def do_export(args) -> int:
    from tools.regional import evidence, holds
    from tools.regional.models import open_regional

    holds.person(args.user)
    open_regional(_db(args))
    summary = evidence.export(args.case, Path(args.out), user=args.user, purpose=args.purpose,
                              released_to=args.released_to)
    human = (f"{summary['reads']} reads of case {args.case} exported to {summary['folder']} "
             f"({summary['files']} files) by {args.user}; manifest sha256 {summary['manifest_sha256']}")
    if summary["missing_images"]:
        human += f"\nnote: {len(summary['missing_images'])} images never reached the center"
    emit(summary, args.json, human)
    return 0
