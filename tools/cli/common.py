"""Helpers every subcommand shares: the data folder, config, JSON output."""

from __future__ import annotations

import json
import sys
from typing import Any

from gateway.config import Config
from gateway.datadir import DataDir


def datadir(args) -> DataDir:
    return DataDir.resolve(getattr(args, "data", None)).ensure()


def config(args) -> Config:
    return Config.load(datadir(args).config_file)


def add_json(parser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable JSON output")


def emit(obj: Any, as_json: bool, human: str | None = None) -> None:
    """Print one result: a JSON line with --json, else the human text."""
    if as_json:
        sys.stdout.write(json.dumps(obj, default=str, sort_keys=False) + "\n")
    else:
        sys.stdout.write((human if human is not None else json.dumps(obj, indent=2, default=str)) + "\n")
    sys.stdout.flush()
