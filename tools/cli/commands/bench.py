"""`alpr bench ...`: benchmarks that print figures; each lives in tools.bench."""

from tools.cli.main import discover


def register(subparsers) -> None:
    parser = subparsers.add_parser("bench", help="benchmarks that print measured figures")
    sub = parser.add_subparsers(dest="bench", metavar="BENCH")
    sub.required = True
    discover("tools.bench", sub)
