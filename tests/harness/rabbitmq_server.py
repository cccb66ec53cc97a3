"""A real RabbitMQ server for the tests: Debian's `rabbitmq-server`, a throw-away node, loopback only.

Everything the node writes (its database, logs, Erlang cookie) lives in one temporary folder,
removed on stop. Debian's `/usr/sbin/rabbitmq-server` wrapper switches to the `rabbitmq` user and
works in /var/lib/rabbitmq; this runs the script behind it (/usr/lib/rabbitmq/bin/rabbitmq-server)
directly, as `rabbitmq` when root (as in CI) and as the caller otherwise, with the folder owned by
that user. AMQP, the Erlang distribution port and the node's own epmd all listen on 127.0.0.1
only, on free ports, so the node neither meets nor disturbs any other Erlang node on the machine.
The user and password are created on first boot from RABBITMQ_DEFAULT_USER/RABBITMQ_DEFAULT_PASS,
as in the official image.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from tests.harness.ports import free_port

HOST = "127.0.0.1"
SERVER_SCRIPT = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
EPMD = "epmd"
SERVICE_USER = "rabbitmq"
#: Boot takes 5-7 s on an idle machine; a loaded CI machine gets ample room.
BOOT_TIMEOUT_SECONDS = 90
STOP_TIMEOUT_SECONDS = 30


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


@dataclass
class RabbitMqServer:
    root: Path
    port: int
    user: str
    password: str
    _processes: list[subprocess.Popen] = field(default_factory=list)

    def broker_url(self) -> str:
        """Celery's URL in the program's form (src/components/credentials.ts), user and password escaped.

        The program's generated password is letters and digits, which need no escaping; any other needs it.
        """
        return f"pyamqp://{quote(self.user, safe='')}:{quote(self.password, safe='')}@{HOST}:{self.port}//"

    @property
    def log_file(self) -> Path:
        return self.root / "log" / "rabbit.log"

    def log(self) -> str:
        """The node's log and what the script printed, for assertions and failure messages."""
        parts = [p.read_text(errors="replace") for p in (self.log_file, self.root / "stdout.log") if p.exists()]
        return "\n".join(parts)

    def stop(self) -> None:
        """Stops the node (SIGTERM: the script stops the VM cleanly), then its epmd; removes the folder."""
        try:
            for process in reversed(self._processes):
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    try:
                        process.wait(STOP_TIMEOUT_SECONDS)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait(STOP_TIMEOUT_SECONDS)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start(advanced_config: str, user: str, password: str, rabbitmq_conf: str = "") -> RabbitMqServer:
    """A node with these advanced.config and rabbitmq.conf, and `user` created on first boot."""
    if not SERVER_SCRIPT.exists():
        raise RuntimeError(
            f"no RabbitMQ server at {SERVER_SCRIPT}; install Debian's package with "
            "`apt-get install rabbitmq-server` (nothing needs to run as a service)"
        )
    root = Path(tempfile.mkdtemp(prefix="imqcam-rabbitmq-"))
    run_as: dict = {}
    if os.geteuid() == 0:
        account = pwd.getpwnam(SERVICE_USER)
        run_as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    for folder in ("mnesia", "log"):
        (root / folder).mkdir()
    (root / "advanced.config").write_text(advanced_config)
    (root / "rabbitmq.conf").write_text(rabbitmq_conf)
    (root / "rabbitmq-env.conf").write_text("")
    if run_as:
        for path in (root, *root.iterdir()):
            os.chown(path, run_as["user"], run_as["group"])
    root.chmod(0o700)

    server = RabbitMqServer(root=root, port=free_port(), user=user, password=password)
    epmd_port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(root),  # the Erlang cookie
        "ERL_EPMD_ADDRESS": HOST,
        "ERL_EPMD_PORT": str(epmd_port),
        "RABBITMQ_NODENAME": "rabbit@localhost",
        "RABBITMQ_NODE_IP_ADDRESS": HOST,
        "RABBITMQ_NODE_PORT": str(server.port),
        "RABBITMQ_DIST_PORT": str(free_port()),
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        "RABBITMQ_CONF_ENV_FILE": str(root / "rabbitmq-env.conf"),
        "RABBITMQ_CONFIG_FILE": str(root / "rabbitmq.conf"),
        "RABBITMQ_ADVANCED_CONFIG_FILE": str(root / "advanced.config"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(root / "enabled_plugins"),
        "RABBITMQ_MNESIA_BASE": str(root / "mnesia"),
        "RABBITMQ_LOG_BASE": str(root / "log"),
        "RABBITMQ_LOGS": str(server.log_file),
        "RABBITMQ_DEFAULT_USER": user,
        "RABBITMQ_DEFAULT_PASS": password,
    }
    try:
        # The node's own epmd, in the foreground, so that stopping it is stopping a process we started.
        server._processes.append(subprocess.Popen(
            [EPMD, "-address", HOST, "-port", str(epmd_port)], env=env, cwd=root,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **run_as,
        ))
        with open(root / "stdout.log", "wb") as out:
            server._processes.append(subprocess.Popen(
                [str(SERVER_SCRIPT)], env=env, cwd=root, stdout=out, stderr=subprocess.STDOUT, **run_as,
            ))
        _wait_until_ready(server)
    except BaseException:
        log = server.log()
        server.stop()
        raise RuntimeError(f"RabbitMQ did not start:\n{log}") from None
    return server


def _wait_until_ready(server: RabbitMqServer) -> None:
    """Until the node accepts the user's login over AMQP (the listener opens before boot ends)."""
    import amqp  # py-amqp, Celery's pyamqp transport; imported here so the module loads without it

    node = server._processes[-1]
    deadline = time.monotonic() + BOOT_TIMEOUT_SECONDS
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if node.poll() is not None:
            raise RuntimeError(f"rabbitmq-server exited with {node.returncode}")
        if _listening(server.port):
            connection = amqp.Connection(
                f"{HOST}:{server.port}", userid=server.user, password=server.password, connect_timeout=5
            )
            try:
                connection.connect()
                return
            except Exception as exc:  # still booting: refused or closed during the handshake
                last_error = exc
            finally:
                with contextlib.suppress(Exception):
                    connection.collect()
        time.sleep(0.25)
    raise RuntimeError(f"rabbitmq-server was not ready within {BOOT_TIMEOUT_SECONDS}s (last login: {last_error!r})")


@contextlib.contextmanager
def running(advanced_config: str, user: str, password: str, rabbitmq_conf: str = ""):
    """A node for the length of a `with` block (a pytest fixture's scope), removed after."""
    server = start(advanced_config, user, password, rabbitmq_conf)
    try:
        yield server
    finally:
        server.stop()
