"""The chart library the HTML report embeds: Chart.js, fetched once from the npm registry at a pinned
version and checked against the registry's own integrity hash, then kept in the virtualenv. The report
copies it into every file it writes, so the file opens with no network.

`make setup` fetches it (`python -m pipelines.report_html.library`); `mailjet-elt report` only reads it."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import sys
import tarfile
import urllib.request
from pathlib import Path

from pipelines.errors import EXIT_USAGE, CommandError

NAME = "chart.js"
VERSION = "4.6.2"
TARBALL = f"https://registry.npmjs.org/{NAME}/-/{NAME}-{VERSION}.tgz"
# The registry's `dist.integrity` of that tarball (`npm view chart.js@4.6.2 dist.integrity`).
INTEGRITY = "sha512-xachB+pPHjp0syJi7llUBA1w3kMYl6NF3o7eVrvjnWCT+IB2zMaF2pX5UYDiwbbfsioFEIRnAjreNOMsGj5TIA=="
MEMBERS = {"package/dist/chart.umd.min.js": "chart.umd.min.js", "package/LICENSE.md": "LICENSE.md"}
FETCH_SECONDS = 60


def folder() -> Path:
    """Where the library is kept: inside the running virtualenv (`MAILJET_ELT_CHARTS_DIR` overrides)."""
    override = os.environ.get("MAILJET_ELT_CHARTS_DIR")
    return Path(override) if override else Path(sys.prefix) / "share" / "mailjet-elt" / f"{NAME}-{VERSION}"


def script() -> str:
    """The library's code, to embed. CommandError (exit 2) naming the fix when it was never fetched."""
    path = folder() / "chart.umd.min.js"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(
            f"the report's chart library ({NAME} {VERSION}) is not installed at {path}: run `make setup` "
            f"(or `{Path(sys.executable).name} -m pipelines.report_html.library`) once, with access to "
            "registry.npmjs.org",
            EXIT_USAGE,
        ) from None


def verified(tarball: bytes) -> bytes:
    """`tarball` when its SHA-512 is the pinned integrity; ValueError otherwise."""
    algorithm, _, expected = INTEGRITY.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, tarball).digest()).decode()
    if digest != expected:
        raise ValueError(f"{TARBALL}: integrity {algorithm}-{digest}, expected {INTEGRITY}")
    return tarball


def install(tarball: bytes, into: Path) -> None:
    """Unpack the library's files from a verified `tarball` into `into`, each written whole (a temporary
    file renamed), so a crash never leaves half a library."""
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(verified(tarball)), mode="r:gz") as archive:
        for member, name in MEMBERS.items():
            extracted = archive.extractfile(member)
            if extracted is None:
                raise ValueError(f"{TARBALL}: {member} is not a file")
            partial = into / f".{name}.partial"
            partial.write_bytes(extracted.read())
            partial.replace(into / name)


def fetch() -> bool:
    """Fetch and install the library unless it is there already; whether it was fetched now."""
    into = folder()
    if all((into / name).is_file() for name in MEMBERS.values()):
        return False
    with urllib.request.urlopen(TARBALL, timeout=FETCH_SECONDS) as answer:
        install(answer.read(), into)
    return True


def main() -> int:
    """Says only what it did: nothing when the library is there already."""
    try:
        if fetch():
            print(f"the report's chart library: {NAME} {VERSION} (MIT License) installed in {folder()}")
    except (OSError, ValueError) as exc:
        print(f"cannot install the report's chart library {NAME} {VERSION} from {TARBALL}: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
