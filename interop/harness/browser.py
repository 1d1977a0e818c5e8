"""Headless Chromium for the dashboard's browser check: Debian's `chromium` and `chromium-driver`, driven through
chromedriver's W3C WebDriver HTTP API with urllib (no Python browser library).

`ensure_chromium()` installs the packages when they are missing and the tests run as root (apt-get update, then
apt-get install -y); otherwise it raises BrowserSetupError with what to do, which the test reports as a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

from interop.harness.ports import free_port

PACKAGES = ("chromium", "chromium-driver")


class BrowserSetupError(RuntimeError):
    """Chromium or chromedriver is missing and could not be installed."""


def ensure_chromium() -> tuple[str, str]:
    """Paths of chromium and chromedriver, installing Debian's packages first when they are missing."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium and driver:
        return chromium, driver
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise BrowserSetupError(
            "headless Chromium is needed for the dashboard browser test: run "
            "`apt-get update && apt-get install -y chromium chromium-driver` as root (Debian packages)"
        )
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", *PACKAGES]):
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
        if proc.returncode != 0:
            raise BrowserSetupError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}{proc.stderr}")
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        raise BrowserSetupError(f"apt-get installed {PACKAGES} but chromium/chromedriver are not on PATH")
    return chromium, driver


class Browser:
    """One chromedriver process and one headless Chromium session."""

    def __init__(self, workdir: Path) -> None:
        chromium, driver = ensure_chromium()
        workdir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        self._log = (workdir / "chromedriver.log").open("wb")
        self._proc = subprocess.Popen(
            [driver, f"--port={port}"], stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        self._base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if self._call("GET", "/status").get("value", {}).get("ready"):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or self._proc.poll() is not None:
                self.close()
                raise BrowserSetupError(f"chromedriver did not start; see {workdir / 'chromedriver.log'}")
            time.sleep(0.2)
        options = {
            "binary": chromium,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--window-size=1400,1000",
            ],
        }
        capabilities = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": options}}}
        try:
            self._session = self._call("POST", "/session", capabilities)["value"]["sessionId"]
        except BaseException:
            self.close()
            raise

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self._base + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"WebDriver {method} {path}: {exc.code} {exc.read()[:2000]!r}") from exc

    def open(self, url: str) -> None:
        self._call("POST", f"/session/{self._session}/url", {"url": url})

    def script(self, source: str, *args: Any) -> Any:
        """Run `source` as a function body in the page; returns its value."""
        return self._call("POST", f"/session/{self._session}/execute/sync", {"script": source, "args": list(args)})[
            "value"
        ]

    def text(self) -> str:
        """What the page shows: document.body.innerText (rendered text, not the templates)."""
        value = self.script("return document.body ? document.body.innerText : '';")
        return str(value)

    def wait_text(self, wanted: list[str], timeout: float = 60.0) -> str:
        """The page text once every string of `wanted` is shown; AssertionError with the text otherwise."""
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.text()
            if all(w in text for w in wanted):
                return text
            time.sleep(0.5)
        missing = [w for w in wanted if w not in text]
        raise AssertionError(f"the page never showed {missing}; it shows:\n{text[:4000]}")

    def close(self) -> None:
        try:
            if getattr(self, "_session", None):
                self._call("DELETE", f"/session/{self._session}")
        except (OSError, AssertionError):
            pass
        finally:
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(10)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
            self._log.close()
