"""Headless Chromium for the tests, driven through its DevTools protocol (a WebSocket on 127.0.0.1).

`make test` installs Debian's `chromium` package (`make chromium`); the tests find it at
$MAILJET_ELT_CHROMIUM, or on PATH as chromium, chromium-browser or google-chrome. Chromium starts with an
empty profile in a temporary folder and with every
background connection off (this machine's network is closed), opens one page, and reports what the page
logged: console messages, uncaught exceptions, and every request it tried to make."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websocket

FLAGS = (
    "--headless",
    "--no-sandbox",  # the tests run as root in a container
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--hide-scrollbars",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)
START_SECONDS = 30


def chromium() -> str:
    """The Chromium to run; AssertionError naming the fix when there is none."""
    found = os.environ.get("MAILJET_ELT_CHROMIUM") or next(
        filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None
    )
    assert found, (
        "no Chromium: `make chromium` installs Debian's chromium package (`make test` runs it); "
        "or set MAILJET_ELT_CHROMIUM to a Chromium binary"
    )
    return found


@dataclass
class Page:
    """One page in Chromium, and what it logged."""

    socket: websocket.WebSocket
    errors: list[str] = field(default_factory=list)  # console errors, exceptions, failed loads
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    _next: int = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next += 1
        ask = self._next
        self.socket.send(json.dumps({"id": ask, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == ask:
                assert "error" not in message, f"{method}: {message['error']}"
                return dict(message.get("result", {}))
            self._event(message)

    def _event(self, message: dict[str, Any]) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert", "warning"):
            texts = [str(a.get("value", a.get("description", ""))) for a in params.get("args", [])]
            self.errors.append(f"console.{params['type']}: {' '.join(texts)}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.errors.append(f"exception: {details.get('exception', {}).get('description') or details}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
            self.errors.append(f"log: {params['entry'].get('text')}")
        elif method == "Network.requestWillBeSent":
            self.requests.append(str(params.get("request", {}).get("url")))
        elif method == "Network.loadingFailed":
            self.errors.append(f"load failed: {params.get('errorText')}")

    def wait_for(self, event: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        self.socket.settimeout(seconds)
        while time.monotonic() < deadline:
            message = json.loads(self.socket.recv())
            self._event(message)
            if message.get("method") == event:
                return
        raise AssertionError(f"no {event} within {seconds} s")

    def evaluate(self, expression: str) -> Any:
        answer = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in answer, answer["exceptionDetails"]
        return answer["result"].get("value")

    def screenshot(self, path: Path) -> Path:
        png = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(png["data"]))
        return path


@contextmanager
def opened(url: str, width: int = 1280, height: int = 1800, seconds: float = 60) -> Iterator[Page]:
    """`url` open in a fresh headless Chromium, loaded (its load event fired), until the block ends."""
    with tempfile.TemporaryDirectory(prefix="mailjet-elt-chromium-") as profile:
        process = subprocess.Popen(
            [
                chromium(),
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            port = _port(Path(profile) / "DevToolsActivePort", process)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
                targets = json.load(answer)
            [target] = [t for t in targets if t.get("type") == "page"]
            socket = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=seconds)
            try:
                page = Page(socket)
                for domain in ("Runtime", "Log", "Network", "Page"):
                    page.call(f"{domain}.enable")
                page.call("Page.navigate", url=url)
                page.wait_for("Page.loadEventFired", seconds)
                yield page
            finally:
                socket.close()
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _port(active: Path, process: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"Chromium exited at start with status {process.returncode}")
        if active.is_file() and (lines := active.read_text().splitlines()):
            return int(lines[0])
        time.sleep(0.05)
    raise AssertionError(f"Chromium did not open its DevTools port within {START_SECONDS} s")
