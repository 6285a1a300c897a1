"""While the data tests run, DuckDB keeps few buffers in memory when it can free them; either way its memory
limit is what it was before, and the plan goes on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import pytest

from pipelines.warehouse.memory import SPILLED_LIMIT, buffers_spilled

pytestmark = pytest.mark.unit


@dataclass
class Client:
    """What buffers_spilled reads of dlt's SQL client: its DuckDB connection."""

    native_connection: Any


def limit(con: duckdb.DuckDBPyConnection) -> str:
    return str(con.execute("select current_setting('memory_limit')").fetchone()[0])  # type: ignore[index]


def test_the_limit_is_lowered_in_the_block_and_restored_to_what_it_was() -> None:
    con = duckdb.connect()
    con.execute("set memory_limit = '128MB'")
    before = limit(con)
    with buffers_spilled(Client(con)):  # type: ignore[arg-type]
        assert limit(con) == limit(duckdb.connect(config={"memory_limit": SPILLED_LIMIT}))
    assert limit(con) == before  # not a fixed value: `run` loads under a limit of its own


def test_buffers_that_cannot_be_freed_leave_the_limit_and_the_block_runs() -> None:
    con = duckdb.connect(config={"temp_directory": ""})  # in memory, no spill folder: nowhere to go
    con.execute("set memory_limit = '256MB'")
    con.execute(
        "create table t as select range as i, md5(range::varchar) || md5((range + 7)::varchar) as s"
        " from range(1000000)"
    )
    before = limit(con)
    ran = False
    with buffers_spilled(Client(con)):  # type: ignore[arg-type]
        ran = True
        assert limit(con) == before
    assert ran and limit(con) == before
    assert con.execute("select count(*) from t").fetchone() == (1_000_000,)
