"""`alpr eval ...`: accuracy on labelled datasets; each lives in tools.eval."""

from tools.cli.main import discover


def register(subparsers) -> None:
    parser = subparsers.add_parser("eval", help="accuracy on a labelled dataset folder")
    sub = parser.add_subparsers(dest="eval", metavar="DATASET_KIND")
    sub.required = True
    discover("tools.eval", sub)
