"""Helpers every subcommand shares: the data folder, config, JSON output."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from gateway.config import Config
from gateway.datadir import DataDir


def datadir(args) -> DataDir:
    return DataDir.resolve(getattr(args, "data", None)).ensure()


def config(args) -> Config:
    return Config.load(datadir(args).config_file)


def at_least(low: int):
    """An argparse type: a whole number not under `low` (a thread count, a limit), so that a
    wrong value is refused by name rather than failing later in a way that blames something else."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is too small: {low} or more")
        return value

    parse.__name__ = f"whole number >= {low}"
    return parse


def port(text: str) -> int:
    """An argparse type: a TCP port, 1 to 65535. A larger number would not be refused by every
    server library (some take it modulo 65536 and listen somewhere else without a word)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port: 1 to 65535") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port: 1 to 65535")
    return value


port.__name__ = "port 1-65535"


def listen_port(text: str) -> int:
    """An argparse type for a server's own port: 1 to 65535, or 0 for any free port (which the
    server then reports), as tests and benches use."""
    if text.strip() == "0":
        return 0
    return port(text)


listen_port.__name__ = "port 0-65535"


def at_least_float(low: float, *, above: bool = False):
    """An argparse type: a number not under `low` (strictly above it with above=True), for rates,
    durations and bandwidths where 0 or a negative value would divide by zero or never end."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if value < low or (above and value == low):
            raise argparse.ArgumentTypeError(
                f"{text} is too small: {'more than' if above else 'at least'} {low:g}")
        return value

    parse.__name__ = f"number {'>' if above else '>='} {low:g}"
    return parse


def some(names: list[str], shown: int = 5) -> str:
    """The first `shown` names, and how many more: for a message about many files."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def add_json(parser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable JSON output")


def emit(obj: Any, as_json: bool, human: str | None = None) -> None:
    """Print one result: a JSON line with --json, else the human text."""
    if as_json:
        sys.stdout.write(json.dumps(obj, default=str, sort_keys=False) + "\n")
    else:
        sys.stdout.write((human if human is not None else json.dumps(obj, indent=2, default=str)) + "\n")
    sys.stdout.flush()


class ImageFiles:
    """The images named on a command line, decoded one by one.

    A file that cannot be read is reported on stderr and listed in `failed`,
    and the rest are still processed: one bad photo must not stop a batch.
    """

    def __init__(self, paths: list[str]):
        self.paths = paths
        self.failed: list[str] = []

    def __iter__(self):
        from tools.cli.images import read_image

        for path in self.paths:
            image, why = read_image(path)
            if image is None:
                print(f"alpr: cannot read {path}: {why}", file=sys.stderr)
                self.failed.append(path)
                continue
            yield path, image
