"""A recording fake of kde04 for the takeover's tests: kubectl, helm, pulumi, ts-node and the
database module, answering with the JSON the real tools return (fixtures/) and changing its
objects as the real commands would (helm uninstall keeps StatefulSet claims, pulumi up creates
the program's objects, scale removes pods, ...).

Every call is logged as `Call(argv, stdin, env)`; the database module's calls are logged too,
as `history.<function> <pod> <container>`. `fail(match, when)` makes the next matching call fail
once, before or after its effect, as a crash would.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from takeover.backup import DISCARD, FINISH, UPLOAD
from takeover.share import OWNER, UNWRITABLE
from takeover.cluster import CommandError

FIXTURES = Path(__file__).parent / "fixtures"
NS = "imqcam-dagster"
OLD_ALEMBIC, NEW_ALEMBIC = "46b412388816", "29b539ebc72a"
IN_PROGRESS = ("QUEUED", "STARTING", "STARTED", "CANCELING")
ENCRYPTED = "<encrypted in the stack file>"


def load(name: str):
    return json.loads((FIXTURES / name).read_text())


def secret_values() -> dict:
    """The fixtures' Secret values, decoded: what must never be printed."""
    out = {}
    for name in ("girder-connection-info", "globus-compute-creds"):
        for key, enc in load(f"secret-{name}.json")["data"].items():
            out[f"{name}.{key}"] = base64.b64decode(enc).decode()
    return out


@dataclass
class Call:
    argv: list
    stdin: Optional[bytes]
    env: dict

    @property
    def line(self) -> str:
        return " ".join(self.argv)


class FakeDB:
    def __init__(self, runs: dict, events: int, alembic: Optional[str]):
        self.runs = dict(runs)  # run id -> status
        self.events = events
        self.alembic = alembic
        self.run_tag_duplicates = 0

    @classmethod
    def old_history(cls, n=50, events=1470):
        return cls({f"{i:08x}-7f3e-4c1a-9b2d-{i:012x}": ("SUCCESS" if i % 7 else "FAILURE") for i in range(n)},
                   events, OLD_ALEMBIC)


@dataclass(frozen=True)
class HistorySummary:  # as database/history.py's
    run_ids: tuple
    runs_by_status: dict  # status -> number of runs
    event_log_rows: int
    alembic_version: Optional[str]
    has_dagster_schema: bool
    database: str = field(default="", compare=False)


class HistoryError(Exception):
    pass


class Clock:
    def __init__(self):
        self.t = dt.datetime(2026, 11, 20, 10, 0, 0, tzinfo=dt.timezone.utc)

    def now(self):
        self.t += dt.timedelta(milliseconds=400)
        return self.t

    def sleep(self, seconds):
        self.t += dt.timedelta(seconds=seconds)

    def stamp(self):
        return self.now().strftime("%Y%m%d-%H%M%S")


def _matches(labels: dict, selector: str) -> bool:
    return all(labels.get(k) == v for k, v in (p.split("=", 1) for p in selector.split(",") if p))


class World:
    def __init__(self):
        self.namespace = load("namespace.json")
        self.pvs = {"imqcam-dagster-io-data": load("pv-imqcam-dagster-io-data.json")}
        self.pvcs = {c["metadata"]["name"]: c for c in load("pvcs.json")["items"]}
        self.secrets = {n: load(f"secret-{n}.json") for n in ("girder-connection-info", "globus-compute-creds")}
        self.pods = {p["metadata"]["name"]: p for p in load("pods.json")["items"]}
        self.deployments = {d["metadata"]["name"]: d for d in load("deployments-old.json")["items"]}
        self.jobs: dict = {}
        self.releases = load("helm-list.json")
        self.helm_values = load("helm-values.json")
        self.config = {"namespace": NS, "dagsterVersion": "1.13.27", "ioVolume": {
            "nfs": {"server": "sciserver-fs1", "path": "/srv/vc_crypt/IMQCAM/dagster_filesystem_io"},
            "size": "5Gi", "mountPath": "/tmp/imqcam_filesystem_io_data"}}
        self.env_secrets: dict = {}  # the stack's encrypted envSecrets, decrypted
        self.dbs = {"dagster-postgresql": FakeDB.old_history(), "postgresql": None}
        self.share: dict = {}  # NFS files by their path in the pods
        self.log: list = []
        self.effects: list = []  # what changed, in order
        self._failures: list = []
        self.clock = Clock()
        # Knobs for bad cases.
        self.share_mounted = True
        self.share_owner = "1000:100 2775"  # what `stat` prints of the share's top folder
        self.share_writer = {"uid": 10001, "gid": 10001}  # the stack's ioVolume.writer, as checkStack.ts prints it
        self.share_unwritable: list = []  # paths on the share the writer may not write (share.UNWRITABLE)
        self.share_owners: dict = {}  # what the takeover gave to whom (chown), by path in the pods
        self.share_corrupts = False
        self.migrate_fails = False
        self.uninstall_deletes: list = []
        self.pulumi_recreates_pv = False
        self.restore_loses_events = 0
        self.docker_running = True
        self.stack_problems: list = []
        self.builds_images = True
        self.pulumi_logged_in = True
        self.on_call = None  # callback(call) before dispatch, to change the world mid-run
        self.history = self._history_module()

    # failure injection -------------------------------------------------------------------
    def fail(self, match: str, when: str = "before", nth: int = 1, exc=None):
        self._failures.append({"match": match, "when": when, "nth": nth, "seen": 0, "exc": exc})

    def _maybe_fail(self, call: Call, when: str, history: bool):
        for f in list(self._failures):
            if f["when"] == when and f["match"] in call.line:
                f["seen"] += 1
                if f["seen"] == f["nth"]:
                    self._failures.remove(f)
                    if f["exc"] is not None:
                        raise f["exc"]
                    if history:
                        raise HistoryError(f"injected failure {when}: {call.line}")
                    raise CommandError(call.argv, 1, f"injected failure {when} the effect")

    def calls(self, prefix: str) -> list:
        return [c for c in self.log if c.line.startswith(prefix)]

    def index(self, prefix: str, last: bool = False) -> int:
        found = [i for i, c in enumerate(self.log) if c.line.startswith(prefix)]
        assert found, f"no call starting with {prefix!r}"
        return found[-1] if last else found[0]

    def effect_count(self, name: str) -> int:
        return sum(1 for e in self.effects if e == name)

    # the runner ---------------------------------------------------------------------------
    def run(self, argv, stdin, env, stream) -> bytes:
        data = stdin.read_bytes() if isinstance(stdin, Path) else stdin
        call = Call(list(argv), data, dict(env or {}))
        self.log.append(call)
        if self.on_call:
            self.on_call(call)
        self._maybe_fail(call, "before", False)
        result = self._dispatch(call)
        self._maybe_fail(call, "after", False)
        return result

    def _dispatch(self, call: Call) -> bytes:
        a = call.argv
        if a[:3] == ["ts-node", "--transpile-only", "scripts/checkStack.ts"]:
            # The program's own check (tested for real in tests/cluster): what this world says it finds.
            return json.dumps({"problems": self.stack_problems, "buildsImages": self.builds_images,
                               "shareWriter": self.share_writer}).encode()
        if a[0] == "ts-node":
            return self._stack_config(a[-2], a[-1])
        if a[:2] == ["kubectl", "get"]:
            return self._get(a)
        if a[:3] == ["kubectl", "scale", "deployment"]:
            return self._scale(a[3], int(a[-1].split("=")[1]))
        if a[:3] == ["kubectl", "rollout", "status"]:
            name = a[3].split("/")[1]
            d = self.deployments.get(name)
            if d is None or d["spec"]["replicas"] < 1:
                raise CommandError(a, 1, f"deployment {name} has no replicas")
            return b"deployment successfully rolled out\n"
        if a[:2] == ["kubectl", "exec"]:
            return self._exec(a, call.stdin)
        if a[:2] == ["kubectl", "create"]:
            return self._create_job(a, call.stdin)
        if a[:2] == ["kubectl", "logs"]:
            return b"INFO  [alembic.runtime.migration] Running upgrade\nsqlalchemy.exc.OperationalError: boom\n"
        if a[:2] == ["kubectl", "delete"]:
            return self._delete(a)
        if a[0] == "helm":
            return self._helm(a)
        if a[0] == "pulumi":
            return self._pulumi(a, call)
        if a[0] == "docker":
            if not self.docker_running:
                raise CommandError(a, 1, "Cannot connect to the Docker daemon at unix:///var/run/docker.sock")
            return b"27.3.1\n"
        raise AssertionError(f"unexpected command {a}")

    def _stack_config(self, stack: str, key: str) -> bytes:
        assert stack == "kde04"
        if key == "envSecrets":
            if not self.env_secrets:
                raise CommandError(["ts-node"], 2, f"stack {stack} has no setting {key}")
            return json.dumps({s: {k: ENCRYPTED for k in keys} for s, keys in self.env_secrets.items()}).encode()
        value = self.config.get(key)
        if value is None:
            raise CommandError(["ts-node"], 2, f"stack {stack} has no setting {key}")
        return ((value if isinstance(value, str) else json.dumps(value)) + "\n").encode()

    @staticmethod
    def _flag(a: list, flag: str) -> Optional[str]:
        return a[a.index(flag) + 1] if flag in a else None

    def _store(self, kind: str) -> dict:
        return {"pv": self.pvs, "pvc": self.pvcs, "secret": self.secrets, "pod": self.pods, "pods": self.pods,
                "deployments": self.deployments, "job": self.jobs}[kind]

    def _get(self, a: list) -> bytes:
        kind = a[2]
        if kind == "namespace":
            return json.dumps(self.namespace).encode() if self.namespace and a[3] == NS else b""
        if "--ignore-not-found" in a:  # one object by name
            obj = self._store(kind).get(a[3])
            return json.dumps(obj).encode() if obj is not None else b""
        selector = self._flag(a, "-l")
        items = [o for o in self._store(kind).values()
                 if not selector or _matches(o["metadata"].get("labels", {}), selector)]
        listing = {"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}
        return json.dumps(listing).encode()

    def _pods_of(self, deployment: dict) -> list:
        sel = deployment["spec"]["selector"]["matchLabels"]
        return [n for n, p in self.pods.items()
                if all(p["metadata"].get("labels", {}).get(k) == v for k, v in sel.items())]

    def _scale(self, name: str, replicas: int) -> bytes:
        d = self.deployments[name]
        d["spec"]["replicas"] = replicas
        self.effects.append(f"scale {name}={replicas}")
        for pod in self._pods_of(d)[replicas:]:
            del self.pods[pod]
        for i in range(len(self._pods_of(d)), replicas):
            labels = dict(d["spec"]["template"]["metadata"]["labels"])
            self.pods[f"{name}-new-{i}"] = {"metadata": {"name": f"{name}-new-{i}", "labels": labels},
                                            "spec": {"containers": [{"name": "dagster"}]},
                                            "status": {"phase": "Running"}}
        return f"deployment.apps/{name} scaled\n".encode()

    def _exec(self, a: list, stdin: Optional[bytes]) -> bytes:
        pod, container = a[5], a[7]
        p = self.pods.get(pod)
        if p is None or container not in [c["name"] for c in p["spec"]["containers"]]:
            raise CommandError(a, 1, f'Error from server (NotFound): pods "{pod}" not found')
        script, args = a[11], a[13:]
        if script == UPLOAD:
            mount, folder, name = args
            if not self.share_mounted:
                raise CommandError(a, 3, f"{mount} is not a mounted volume in this pod")
            data = stdin[: len(stdin) // 2] if self.share_corrupts else stdin
            self.share[f"{folder}/{name}.partial"] = data
            return (hashlib.sha256(data).hexdigest() + "\n").encode()
        if script == FINISH:
            folder, name, uid, gid, mount = args
            self.share[f"{folder}/{name}"] = self.share.pop(f"{folder}/{name}.partial")
            assert folder.startswith(f"{mount}/"), (folder, mount)
            for path in (f"{folder}/{name}", folder, os.path.dirname(folder)):
                self.share_owners[path] = f"{uid}:{gid}"
            self.effects.append("share copy")
            return (hashlib.sha256(self.share[f"{folder}/{name}"]).hexdigest() + "\n").encode()
        if script == OWNER:
            return f"{self.share_owner}\n".encode()
        if script == UNWRITABLE:
            assert args[1:] == [str(self.share_writer["uid"]), str(self.share_writer["gid"])], args
            found = self.share_unwritable
            return "".join(f"{p}\n" for p in [*found[:3], *([str(len(found))] if found else [])]).encode()
        if script == DISCARD:
            self.share.pop(f"{args[0]}/{args[1]}.partial", None)
            return b""
        raise AssertionError(f"unexpected script {script!r}")

    def _create_job(self, a: list, stdin: bytes) -> bytes:
        job = json.loads(stdin)
        meta, spec = job["metadata"], job["spec"]
        # What the API server refuses in a copied Job.
        for name in ("uid", "resourceVersion", "creationTimestamp"):
            if name in meta:
                raise CommandError(a, 1, f"metadata.{name}: Invalid value: must be empty on create")
        if "selector" in spec or "status" in job:
            raise CommandError(a, 1, "spec.selector: Invalid value: `selector` not auto-generated")
        for labels in (meta.get("labels", {}), spec["template"]["metadata"].get("labels", {})):
            if any("controller-uid" in k or k.endswith("job-name") for k in labels):
                raise CommandError(a, 1, "spec.template.metadata.labels: Invalid value: must not set controller-uid")
        if meta["name"] in self.jobs:
            raise CommandError(a, 1, f'jobs.batch "{meta["name"]}" already exists')
        assert spec["template"]["spec"]["containers"][0]["command"] == ["dagster", "instance", "migrate"]
        meta["uid"] = "11111111-2222-4333-8444-555555555555"
        ok = not self.migrate_fails
        if ok:
            self.dbs["postgresql"].alembic = NEW_ALEMBIC
        job["status"] = {"conditions": [{"type": "Complete" if ok else "Failed", "status": "True"}]}
        self.jobs[meta["name"]] = job
        self.effects.append("migrate")
        return f"job.batch/{meta['name']} created\n".encode()

    def _delete(self, a: list) -> bytes:
        kind = a[2]
        targets = [x for x in a[3:a.index("-n")]]
        for t in targets:
            if self._store(kind).pop(t, None) is not None:
                self.effects.append(f"delete {kind} {t}")
        return b""

    def _helm(self, a: list) -> bytes:
        if a[1] == "list":
            return json.dumps(self.releases).encode()
        if a[1:3] == ["get", "values"]:
            return json.dumps(self.helm_values).encode()
        if a[1:3] == ["get", "manifest"]:
            return b"---\n# Source: dagster/templates/deployment-daemon.yaml\nkind: Deployment\n"
        if a[1] == "uninstall":
            if not any(r["name"] == a[2] for r in self.releases):
                raise CommandError(a, 1, f"Error: uninstall: Release not loaded: {a[2]}: release: not found")
            self.releases = [r for r in self.releases if r["name"] != a[2]]
            self.deployments.clear()
            self.pods.clear()
            self.dbs["dagster-postgresql"] = None
            for claim in self.uninstall_deletes:
                self.pvcs.pop(claim, None)
            self.effects.append("helm uninstall")
            return f'release "{a[2]}" uninstalled\n'.encode()
        raise AssertionError(a)

    def _pulumi(self, a: list, call: Call) -> bytes:
        if a[1] == "whoami":
            if not self.pulumi_logged_in:
                raise CommandError(a, 255, "error: PULUMI_ACCESS_TOKEN must be set for login during "
                                           "non-interactive CLI sessions")
            return b"operator\n"
        if a[1:3] == ["config", "set"]:
            assert "--secret" in a and self._flag(a, "--stack") == "kde04"
            _, secret, key = self._flag(a, "--path").split(".")
            value = call.stdin.decode()
            value = value[:-1] if value.endswith("\n") else value  # as pulumi's RemoveTrailingNewline
            self.env_secrets.setdefault(secret, {})[key] = value
            self.effects.append(f"config set {secret}.{key}")
            return b""
        if a[1] == "up":
            if call.env.get("IMQCAM_TAKE_OVER") != "1":
                raise CommandError(a, 255, "error: namespace imqcam-dagster exists and was not created by this "
                                           "stack; run the takeover (IMQCAM_TAKE_OVER)")
            if any(r["name"] == "dagster" and r["chart"] == "dagster-1.7.5" for r in self.releases):
                raise CommandError(a, 255, 'Service "dagster-rabbitmq" is invalid: spec.clusterIPs[0]: '
                                           'Invalid value: ["None"]: may not change once set')
            for s in ("girder-connection-info", "globus-compute-creds"):
                assert len(self.env_secrets.get(s, {})) == 2, "pulumi up before the envSecrets were set"
            self.effects.append("pulumi up")
            if self.pulumi_recreates_pv:
                self.pvs["imqcam-dagster-io-data"]["metadata"]["uid"] = "00000000-0000-4000-8000-000000000000"
            if not any(r["name"] == "dagster" for r in self.releases):
                self.releases.append({"name": "dagster", "namespace": NS, "revision": "1", "status": "deployed",
                                      "chart": "dagster-1.13.27", "app_version": "1.13.27",
                                      "updated": "2026-11-20 10:05:40 +0000 UTC"})
            if "dagster-postgresql-0" not in self.pods:
                self.pods["dagster-postgresql-0"] = load("pod-dagster-postgresql-0-new.json")
            if self.dbs["postgresql"] is None:
                self.dbs["postgresql"] = FakeDB({}, 0, NEW_ALEMBIC)
            self.pvcs.setdefault("dagster-postgresql-data", {"metadata": {"name": "dagster-postgresql-data"},
                                                             "spec": {}, "status": {"phase": "Bound"}})
            self.jobs.setdefault("dagster-migrate-1-13-27", load("job-dagster-migrate-1-13-27.json"))
            if not self.deployments:
                for d in load("deployments-new.json")["items"]:
                    self.deployments[d["metadata"]["name"]] = d
                    replicas = d["spec"]["replicas"]
                    d["spec"]["replicas"] = 0
                    self._scale(d["metadata"]["name"], replicas)
                    self.effects.pop()
            return b""
        raise AssertionError(a)

    # the database module -------------------------------------------------------------------
    def _history_module(self):
        world = self

        class PodRunner:
            def __init__(self, namespace, pod, container, kubectl="kubectl"):
                self.namespace, self.pod, self.container = namespace, pod, container

            def db(self) -> FakeDB:
                p = world.pods.get(self.pod)
                if p is None or self.container not in [c["name"] for c in p["spec"]["containers"]]:
                    raise HistoryError(f"pod {self.pod} has no container {self.container}")
                return world.dbs[self.container]

        def logged(fn_name, runner, extra=None):
            call = Call([f"history.{fn_name}", runner.pod, runner.container] + ([extra] if extra else []), None, {})
            world.log.append(call)
            if world.on_call:
                world.on_call(call)
            world._maybe_fail(call, "before", True)
            return call

        def summary(runner):
            call = logged("summary", runner)
            db = runner.db()
            by_status: dict = {}
            for status in db.runs.values():
                by_status[status] = by_status.get(status, 0) + 1
            result = HistorySummary(tuple(sorted(db.runs)), by_status, db.events, db.alembic, db.alembic is not None,
                                    database=runner.container)
            world._maybe_fail(call, "after", True)
            return result

        def runs_in_progress(s):
            return {status: n for status, n in s.runs_by_status.items() if status in IN_PROGRESS and n}

        def run_tag_duplicates(runner):
            logged("run_tag_duplicates", runner)
            return runner.db().run_tag_duplicates

        def dump(runner, dest: Path):
            call = logged("dump", runner)
            if Path(dest).exists():
                raise HistoryError(f"{dest} already exists")
            db = runner.db()
            data = json.dumps({"runs": db.runs, "events": db.events, "alembic": db.alembic}).encode()
            Path(dest).write_bytes(data)
            world.effects.append("dump")
            world._maybe_fail(call, "after", True)
            return hashlib.sha256(data).hexdigest()

        def restore(runner, dump_path: Path, *, log=lambda message: None):
            call = logged("restore", runner, str(dump_path))
            db = runner.db()
            if db.runs:
                raise HistoryError("the database already has runs; refusing to restore over them")
            data = json.loads(Path(dump_path).read_bytes())
            db.runs, db.alembic = dict(data["runs"]), data["alembic"]
            db.events = data["events"] - world.restore_loses_events
            world.effects.append("restore")
            world._maybe_fail(call, "after", True)
            return summary(runner)

        def verify(before, after):
            diffs = []
            if list(before.run_ids) != list(after.run_ids):
                diffs.append(f"run ids differ: {len(before.run_ids)} before, {len(after.run_ids)} after")
            if before.runs_by_status != after.runs_by_status:
                diffs.append("runs by status differ")
            if before.event_log_rows != after.event_log_rows:
                diffs.append(f"event log rows: {before.event_log_rows} before, {after.event_log_rows} after")
            if diffs:
                raise HistoryError("; ".join(diffs))

        return types.SimpleNamespace(
            HistoryError=HistoryError, HistorySummary=HistorySummary, PodRunner=PodRunner,
            LocalRunner=lambda env: None, summary=summary, runs_in_progress=runs_in_progress,
            run_tag_duplicates=run_tag_duplicates,
            dump=dump, restore=restore, verify=verify)

    def original_replicas(self) -> dict:
        return {d["metadata"]["name"]: d["spec"]["replicas"] for d in load("deployments-new.json")["items"]}

