"""A real Synapse homeserver on 127.0.0.1 for the Matrix tests (see TESTING.md).

One server per test session; every test registers fresh users through the
shared-secret admin API, so nothing needs resetting between tests.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

SHARED_SECRET = "werkbank-test-registration-secret"
# Raised far above Synapse's defaults, or every test waits on 429s; the 429 test
# uses its own, tight server.
GENEROUS = {"per_second": 1000, "burst_count": 1000}
# What an account may send on a Synapse nobody configured (rc_message's defaults).
DEFAULT_MESSAGE_RATE = {"per_second": 0.2, "burst_count": 10}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config(directory: Path, port: int, message_rate: dict[str, float] | None = None) -> str:
    rate = "{per_second: 1000, burst_count: 1000}"
    message = message_rate or GENEROUS
    return f"""\
server_name: localhost
pid_file: {directory}/homeserver.pid
listeners:
  - port: {port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: {directory}/homeserver.db
log_config: {directory}/log.yaml
media_store_path: {directory}/media
signing_key_path: {directory}/signing.key
report_stats: false
trusted_key_servers: []
suppress_key_server_warning: true
federation_domain_whitelist: []
url_preview_enabled: false
presence:
  enabled: false
bcrypt_rounds: 4
registration_shared_secret: {SHARED_SECRET}
enable_registration: false
macaroon_secret_key: {SHARED_SECRET}-macaroon
form_secret: {SHARED_SECRET}-form
rc_message:
  per_second: {message["per_second"]}
  burst_count: {message["burst_count"]}
rc_registration: {rate}
rc_login:
  address: {rate}
  account: {rate}
  failed_attempts: {rate}
rc_joins:
  local: {rate}
  remote: {rate}
rc_invites:
  per_room: {rate}
  per_user: {rate}
  per_issuer: {rate}
rc_key_requests: {rate}
"""


class Synapse:
    def __init__(self, directory: Path, message_rate: dict[str, float] | None = None) -> None:
        self.directory = directory
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.message_rate = message_rate
        self.process: subprocess.Popen[bytes] | None = None
        self._names = itertools.count(1)
        self._admin_token: str | None = None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "homeserver.yaml").write_text(
            config(self.directory, self.port, self.message_rate)
        )
        (self.directory / "log.yaml").write_text(
            "version: 1\nroot:\n  level: WARNING\n  handlers: [file]\nhandlers:\n"
            f"  file:\n    class: logging.FileHandler\n    filename: {self.directory}/synapse.log\n"
            "disable_existing_loggers: false\n"
        )
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "synapse.app.homeserver",
                "-c",
                str(self.directory / "homeserver.yaml"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=(self.directory / "stderr.log").open("wb"),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.directory / "stderr.log").read_text()[-2000:])
            try:
                if httpx.get(f"{self.url}/_matrix/client/versions", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError("Synapse did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def register(self, prefix: str = "user") -> tuple[str, str]:
        """A fresh user: (user id, password)."""
        name = f"{prefix}{next(self._names)}_{int(time.time() * 1000) % 100000}"
        password = f"pw-{name}"
        return self._register(name, password, admin=False)["user_id"], password

    def _register(self, name: str, password: str, admin: bool) -> dict[str, str]:
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        nonce = httpx.get(endpoint).json()["nonce"]
        mac = hmac.new(SHARED_SECRET.encode(), digestmod=hashlib.sha1)
        flag = "admin" if admin else "notadmin"
        mac.update("\x00".join((nonce, name, password, flag)).encode())
        body = {"nonce": nonce, "username": name, "password": password, "admin": admin}
        body["mac"] = mac.hexdigest()
        response = httpx.post(endpoint, json=body)
        response.raise_for_status()
        return dict(response.json())

    def _admin(self) -> dict[str, str]:
        """The Authorization header of a server admin (registered on first use)."""
        if self._admin_token is None:
            name = f"admin_{int(time.time() * 1000) % 100000}"
            self._admin_token = self._register(name, f"pw-{name}", admin=True)["access_token"]
        return {"Authorization": f"Bearer {self._admin_token}"}

    def lift_rate_limits(self, user_id: str) -> None:
        """No rate limits for this account, as an admin sets it for a bot (README, Matrix)."""
        endpoint = f"{self.url}/_synapse/admin/v1/users/{user_id}/override_ratelimit"
        body = {"messages_per_second": 0, "burst_count": 0}
        httpx.post(endpoint, json=body, headers=self._admin()).raise_for_status()

    def restore_rate_limits(self, user_id: str) -> None:
        """The account is limited like everyone else again (the config's rc_message)."""
        endpoint = f"{self.url}/_synapse/admin/v1/users/{user_id}/override_ratelimit"
        httpx.delete(endpoint, headers=self._admin()).raise_for_status()
