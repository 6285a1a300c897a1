"""The files dlt writes between a command's normalize and load steps: written plain, not gzipped (they are
deleted once loaded; on Postgres, gzip of the CSV files COPY reads was half of the extract's normalize)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.warehouse import open_pipeline


@pytest.mark.unit
def test_a_load_file_is_written_without_compression(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt"))
    pipeline = open_pipeline(str(tmp_path / "w.duckdb"))
    pipeline.extract([{"id": 1, "email": "ann@example.com"}], table_name="people")
    pipeline.normalize()  # dicts, into DuckDB: insert_values, a format dlt gzips by default
    (load_id,) = pipeline.list_normalized_load_packages()
    jobs = pipeline.get_load_package_info(load_id).jobs["new_jobs"]
    files = [Path(job.file_path) for job in jobs if job.job_file_info.table_name == "people"]
    assert len(files) == 1
    assert files[0].read_bytes()[:2] != b"\x1f\x8b", "gzip"
    assert b"ann@example.com" in files[0].read_bytes()
