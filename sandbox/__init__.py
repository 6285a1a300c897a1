"""A local, stateful, Mailjet-compatible API server for development, tests, benchmarks and the demo.

with SandboxApp(SandboxConfig(contacts=1000)) as sandbox:
    sandbox.base_url  # http://127.0.0.1:<port>; Basic auth with config.api_key / config.api_secret
"""

from __future__ import annotations

from sandbox.app import SandboxApp, SandboxConfig

__all__ = ["SandboxApp", "SandboxConfig"]
