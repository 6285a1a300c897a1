"""`mailjet-elt sandbox`: the local Mailjet stand-in in the foreground."""

from __future__ import annotations

import argparse
import sys
from contextlib import suppress

from sandbox import SandboxApp, SandboxConfig
from sandbox.exceptions import SandboxConfigError


def run_sandbox(args: argparse.Namespace) -> int:
    """Seed, bind to 127.0.0.1, print how to connect, serve until Ctrl-C."""
    config = SandboxConfig(
        port=args.port,
        api_key=args.api_key,
        api_secret=args.api_secret,
        sms_token=args.sms_token,
        contacts=args.contacts,
        memberships=args.memberships,
        messages=args.messages,
        seed=args.seed,
        now=args.now,
        faults=args.faults,
        quirks=args.quirks,
        job_seconds=args.job_seconds,
    )
    print(f"Seeding {args.contacts:,} contacts (seed {args.seed})...", flush=True)
    try:
        app = SandboxApp(config)
        app.start()
    except SandboxConfigError as exc:
        print(f"mailjet-elt sandbox: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"mailjet-elt sandbox: cannot listen on 127.0.0.1:{args.port} ({exc.strerror}); "
            "choose another --port (0 = any free port)",
            file=sys.stderr,
        )
        return 2
    url = app.base_url
    summary = app.admin.summary()
    print(
        f"Mailjet sandbox listening on {url}  ({summary['contacts']:,} contacts, "
        f"{summary['listrecipients']:,} memberships, {summary['messages']:,} messages; "
        f"seeded in {app.seconds_to_seed:.1f} s)\n"
        f"  API key:    {config.api_key}\n"
        f"  API secret: {config.api_secret}\n"
        f"  SMS token:  {config.sms_token}\n"
        f"  faults:     {args.faults or 'none'}\n"
        f"  quirks:     {', '.join(sorted(app.quirks)) or 'none'}\n"
        "Point mailjet-elt (or any Mailjet client) at it:\n"
        f"  export MAILJET__BASE_URL={url} MAILJET__API_KEY={config.api_key} "
        f"MAILJET__API_SECRET={config.api_secret}\n"
        f"Admin: {url}/_sandbox/summary  (docs/sandbox.md lists the endpoints). Ctrl-C stops it.",
        flush=True,
    )
    try:
        app.wait()
    except KeyboardInterrupt:
        with suppress(OSError):  # whoever read the output may be gone already
            print("\nstopped.", flush=True)
    finally:
        app.stop()
    return 0
