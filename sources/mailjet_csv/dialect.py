"""What kind of file this is, decided before any row is read: a regular file or not, text or binary, its
encoding, its delimiter and its header. Everything here reads at most the first few kilobytes, except the
UTF-8 validity scan, which reads the file once in large chunks."""

from __future__ import annotations

import codecs
import csv
import io
import re
import stat
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sources.mailjet_csv import settings
from sources.mailjet_csv.exceptions import CsvFileError

# Valid multi-byte UTF-8 sequences. Text in a legacy single-byte encoding almost never contains them,
# so a file that is not valid UTF-8 but has them is UTF-8 with a few damaged rows, not Windows-1252.
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_ESCAPED = re.compile("[\udc80-\udcff]")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_SEP_LINE = re.compile(r"(?i)sep=[,;\t|]")
_LOOKS_LIKE_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_SIGNATURES = (
    (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook?)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) workbook"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\x1f\x8b", "a gzip archive"),
)
# Bytes 0x81, 0x8D, 0x8F, 0x90 and 0x9D have no character in Windows-1252; Latin-1 maps every byte.
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")


def normalize_header(name: str) -> str:
    """A header reduced to lowercase letters and digits, for matching (`E-Mail Address` -> `emailaddress`)."""
    return _NOT_ALNUM.sub("", name.strip().lower())


@dataclass(frozen=True)
class Dialect:
    """How to read one file."""

    encoding: str  # a Python codec name
    delimiter: str
    header: tuple[str, ...]
    encoding_note: str  # how the encoding was decided, for the summary
    has_sep_line: bool = False  # an Excel `sep=;` line comes before the header

    @property
    def delimiter_name(self) -> str:
        return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}[self.delimiter]


def sniff(path: Path, encoding: str | None = None) -> Dialect:
    """The dialect of a CSV export, or CsvFileError naming the file, what it found and the fix."""
    size = _regular_file_size(path)
    try:
        with path.open("rb") as f:
            head = f.read(settings.SNIFF_BYTES)
    except OSError as exc:
        raise CsvFileError(_unreadable(path, exc)) from None
    if not head.strip():
        raise CsvFileError(f"{path}: the file is empty; export the contact list from Mailjet again")
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            raise CsvFileError(f"{path}: not a CSV file, it is {what}; open it and save it as CSV (UTF-8)")
    chosen, note = (encoding, f"{encoding} (as requested)") if encoding else _detect_encoding(path, head)
    try:
        info = codecs.lookup(chosen)
    except LookupError:
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise CsvFileError(f"{path}: {chosen!r} is not a text encoding; use a name such as utf-8 or cp1252")
    if not is_wide(chosen) and b"\x00" in head:
        raise CsvFileError(
            f"{path}: not a CSV file (it contains NUL bytes: binary data, or UTF-16 text without a "
            "byte-order mark); save it as CSV (UTF-8)"
        )
    try:
        lines = _head_lines(head, chosen)
    except UnicodeError as exc:
        raise CsvFileError(
            f"{path}: cannot be read as {chosen} ({exc}); for UTF-16 without a byte-order mark name the byte "
            "order: --encoding utf-16-le (or utf-16-be)"
        ) from None
    first = next((line.strip() for line in lines if line.strip()), None)
    if first is None:
        raise CsvFileError(f"{path}: the file holds only blank lines; export the contact list again")
    if any(ord(ch) < 32 and ch != "\t" for ch in first):
        raise CsvFileError(f"{path}: not a CSV file (control characters in its first line); save it as CSV")
    # Excel writes a `sep=;` line before the header when asked to; it names the delimiter.
    forced = first[4] if _SEP_LINE.fullmatch(first) else None
    delimiter, header, used = _choose_delimiter(lines, forced)
    # The header ends on the last line read and that line is cut: its last cell goes on past the bytes read.
    cut = size > len(head) and used == len(lines) and not lines[-1].endswith(("\n", "\r"))
    _check_column_names(path, header, cut)
    if find_email_column(header) is None:
        found = ", ".join(repr(h) for h in header[:20]) + (" …" if len(header) > 20 else "")
        hint = (
            " The first line looks like data, not a header: add a header line naming the column `email`."
            if any(_LOOKS_LIKE_EMAIL.fullmatch(h.strip()) for h in header)
            else " Name the column holding the addresses `email` (or Email, E-mail, Email address)."
        )
        raise CsvFileError(f"{path}: no email column; columns found: {found}.{hint}")
    return Dialect(chosen, delimiter, tuple(header), note, has_sep_line=forced is not None)


def _regular_file_size(path: Path) -> int:
    """The size of `path`, or CsvFileError when it is missing or not a regular file. The type is checked
    with stat, before anything opens the path: opening a FIFO blocks until something writes to it."""
    try:
        mode, size = (info := path.stat()).st_mode, info.st_size
    except (FileNotFoundError, NotADirectoryError):
        raise CsvFileError(_missing(path)) from None
    except OSError as exc:  # a folder on the path that cannot be searched, a symbolic link loop
        raise CsvFileError(_unreadable(path, exc)) from None
    if stat.S_ISDIR(mode):
        raise CsvFileError(f"{path}: is a directory; name the CSV files inside it, e.g. {path}/*.csv")
    if not stat.S_ISREG(mode):
        raise CsvFileError(
            f"{path}: is not a regular file ({_file_kind(mode)}); save the export to a file and import that"
        )
    return size


def _missing(path: Path) -> str:
    """Why a path that stat cannot find is missing, and what to do."""
    if path.is_symlink():
        return (
            f"{path}: is a symbolic link to {path.readlink()}, which does not exist; "
            "import the file it should point to"
        )
    blocker = next((p for p in reversed(path.parents) if p.is_file()), None)
    if blocker is not None:
        return f"{path}: no such file ({blocker} is a file, not a directory); check the path"
    return f"{path}: no such file; check the path and the file name"


def _unreadable(path: Path, exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return (
            f"{path}: cannot be read: permission denied; get read access to it (its owner can run "
            "`chmod a+r` on it) or import a copy you can read"
        )
    return f"{path}: cannot be read ({exc.strerror or exc}); check the path, or import a copy of the file"


def _file_kind(mode: int) -> str:
    """What a non-regular, non-directory file is, in words."""
    kinds = (
        (stat.S_ISFIFO, "a pipe"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((kind for test, kind in kinds if test(mode)), "a pipe or device")


def _check_column_names(path: Path, header: list[str], cut: bool) -> None:
    """CsvFileError when a header cell is too long to be a column name. `cut`: the last cell goes on past
    the bytes the sniffer read, so its length is only a lower bound (the rest is never read)."""
    for i, name in enumerate(header):
        length = len(name.strip())
        if length <= settings.MAX_COLUMN_NAME_LENGTH:
            continue
        size = f"at least {length:,}" if cut and i == len(header) - 1 else f"{length:,}"
        spans_lines = "\n" in name or "\r" in name
        quote = " (it spans several lines: does a quote in it never close?)" if spans_lines else ""
        raise CsvFileError(
            f"{path}: column {i + 1}'s header is {size} characters long{quote}; a column name may be at "
            f"most {settings.MAX_COLUMN_NAME_LENGTH} characters — is the first line really a header?"
        )


def find_email_column(header: list[str] | tuple[str, ...]) -> int | None:
    """Index of the first column whose header names an email address."""
    for i, name in enumerate(header):
        if normalize_header(name) in settings.EMAIL_HEADERS:
            return i
    return None


def _detect_encoding(path: Path, head: bytes) -> tuple[str, str]:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "UTF-8 (with byte-order mark)"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16: FF FE 00 00
        return "utf-32", "UTF-32 (with byte-order mark)"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "UTF-16 (with byte-order mark)"
    valid, multibyte, undefined_1252 = _scan_utf8(path)
    if valid:
        return "utf-8", "UTF-8"
    if multibyte:
        return "utf-8", "UTF-8 (some lines are not valid UTF-8; their rows are rejected)"
    if undefined_1252:
        return "latin-1", "Latin-1 (not valid UTF-8; pass --encoding to choose another)"
    return "cp1252", "Windows-1252 (not valid UTF-8; pass --encoding to choose another)"


def _scan_utf8(path: Path) -> tuple[bool, bool, bool]:
    """(whole file is valid UTF-8, it holds valid multi-byte UTF-8 sequences, it holds bytes Windows-1252
    leaves undefined), in one pass over the file in 8 MiB chunks."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    valid, multibyte, undefined = True, False, False
    with path.open("rb") as f:
        while chunk := f.read(8 * 1024 * 1024):
            if valid:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    valid = False
            if not valid:
                multibyte = multibyte or _UTF8_MULTIBYTE.search(chunk) is not None
                undefined = undefined or _CP1252_UNDEFINED.search(chunk) is not None
        if valid:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                valid = False
    return valid, multibyte, undefined


def _head_lines(head: bytes, encoding: str) -> list[str]:
    """The physical lines of the file's first bytes (the last, maybe cut, line included)."""
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head)
    return _ESCAPED.sub("\ufffd", text).lstrip("\ufeff").splitlines(keepends=True)


def is_wide(encoding: str) -> bool:
    """UTF-16 or UTF-32, under any of their names: NUL bytes are normal there."""
    return codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))


def is_blank(fields: list[str]) -> bool:
    """A record of only empty cells: a blank line, or a spreadsheet's empty row (`,,,`)."""
    return not any(f.strip() for f in fields)


def is_sep_line(fields: list[str]) -> bool:
    """Excel's `sep=;` line, however the delimiter split it (`sep=,` read with commas is `sep=` and ``)."""
    cells = [f.strip() for f in fields]
    if len(cells) == 1:
        return _SEP_LINE.fullmatch(cells[0]) is not None
    return len(cells) == 2 and cells[0].lower() == "sep=" and cells[1] == ""


def header_record(records: Iterator[list[str]]) -> list[str] | None:
    """The first record that is neither blank nor a `sep=` line."""
    return next((r for r in records if not is_blank(r) and not is_sep_line(r)), None)


def _choose_delimiter(lines: list[str], forced: str | None) -> tuple[str, list[str], int]:
    """The delimiter under which the header has an email column (most columns breaks ties); without
    one, the delimiter giving the most columns, so the error can show what was found. The header is
    parsed as a CSV record, so a quoted header cell may hold a line break. Returns the delimiter, the
    header and how many of `lines` it took to read it (blank and `sep=` lines before it included)."""
    best: tuple[bool, int, str, list[str], int] | None = None
    for delimiter in (forced,) if forced else settings.DELIMITERS:
        reader = csv.reader(lines, delimiter=delimiter)
        header = header_record(reader) or []
        rank = (find_email_column(header) is not None, len(header), delimiter, header, reader.line_num)
        if best is None or rank[:2] > best[:2]:
            best = rank
    assert best is not None
    return best[2], best[3], best[4]


@dataclass
class Lines:
    """The physical lines of a file for the csv module, counting them, the bytes read, and the lines
    holding bytes the encoding could not decode."""

    path: Path
    encoding: str
    damaged: set[int] = field(default_factory=set)
    bytes_read: int = 0
    # The last lines read, to show the text of a row the parser refused.
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=64))

    def __iter__(self) -> Iterator[str]:
        raw = self.path.open("rb")
        # UTF-16 cannot carry undecodable bytes as surrogates: those become U+FFFD instead.
        utf16 = is_wide(self.encoding)
        errors = "replace" if utf16 else "surrogateescape"
        with io.TextIOWrapper(raw, encoding=self.encoding, errors=errors, newline="") as text:
            for number, read in enumerate(text, start=1):
                line = read.lstrip("\ufeff") if number == 1 else read
                if _ESCAPED.search(line) or (utf16 and "\ufffd" in line):
                    self.damaged.add(number)
                    line = _ESCAPED.sub("\ufffd", line)
                self.recent.append(line)
                if number % 4096 == 0:
                    self.bytes_read = raw.tell()
                yield line
            self.bytes_read = raw.tell()
