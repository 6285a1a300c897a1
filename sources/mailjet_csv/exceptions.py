"""Errors of the CSV import: a file that cannot be imported at all (bad rows are rejections, not errors)."""

from __future__ import annotations


class CsvImportError(Exception):
    """Base of the CSV import's errors."""


class CsvFileError(CsvImportError):
    """The file is not a usable CSV export: missing, empty, binary, or without an email column. The
    message names the file, what was found and what to do."""
