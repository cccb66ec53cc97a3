"""From the facts `read.py` gathered to the report: what is fine, and what needs a person, each
with the command that shows why or fixes it. Pure functions of the facts and the time."""
from __future__ import annotations

import datetime as _dt
from dataclasses import asdict, dataclass
from typing import Optional

# A share this full stops runs writing step logs, and backups, soon.
SHARE_FULL_PERCENT = 90
FINISHED = ("Succeeded", "Failed")
BACKUP_APP = "postgresql-backup"  # the backup CronJob's app.kubernetes.io/name (databaseBackups.ts)


@dataclass(frozen=True)
class Finding:
    part: str
    problem: str
    do: str

    def as_dict(self) -> dict:
        return asdict(self)


def size(kb: float) -> str:
    units = ["KiB", "MiB", "GiB", "TiB"]
    while kb >= 1024 and len(units) > 1:
        kb, units = kb / 1024, units[1:]
    return f"{kb:.0f} KiB" if units[0] == "KiB" else f"{kb:.1f} {units[0]}"


def age(then: _dt.datetime, now: _dt.datetime) -> str:
    seconds = max(0, int((now - then).total_seconds()))
    for unit, length in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= length:
            return f"{seconds // length} {unit}"
    return f"{seconds} s"


def parse_time(stamp: Optional[str]) -> Optional[_dt.datetime]:
    return _dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None


def share_percent(share: dict) -> int:
    """Used of (used + available), rounded up: what df's Capacity column says."""
    total = share["used_kb"] + share["available_kb"]
    return -(-100 * share["used_kb"] // total) if total else 0


def findings(f: dict) -> list:
    """Everything in the facts that needs a person."""
    ns, stack = f["namespace"], f["stack"]
    up = f"pulumi up --stack {stack}"
    out = []
    for w in f["workloads"]:
        ref = f"{w['kind'].lower()}/{w['name']}"
        if w["replicas"] == 0:
            out.append(Finding("workloads", f"{ref} is scaled to 0", f"kubectl -n {ns} scale {ref} --replicas=1 "
                               "(or the replicas noted before scaling it down)"))
        elif w["ready"] < w["replicas"]:
            out.append(Finding("workloads", f"{ref} has {w['ready']} of {w['replicas']} pods ready",
                               f"kubectl -n {ns} describe {ref}"))
    for p in f["pods"]:  # a finished pod (a Job's, a one-off, an evicted one) is listed, not flagged
        if p["job"] is None and p["phase"] not in FINISHED and not p["ready"]:
            why = ", ".join([p["phase"] or "unknown", *p["waiting"]])
            out.append(Finding("pods", f"pod {p['name']} is not Ready ({why})",
                               f"kubectl -n {ns} describe pod {p['name']}; kubectl -n {ns} logs {p['name']} --all-containers"))
    out += _cronjob_findings(f, ns, up)
    out += _share_findings(f, ns, stack, up)
    if "error" in f["history"]:
        out.append(Finding("run history", f"could not be read: {f['history']['error']}",
                           f"kubectl -n {ns} logs statefulset/dagster-postgresql --tail=200"))
    out += _dagster_findings(f, ns, up)
    release = f["release"]
    if release is None:
        out.append(Finding("release", "Helm has no record of the Release dagster in the namespace", up))
    elif release["status"] != "deployed":
        out.append(Finding("release", f"revision {release['revision']} is {release['status']}",
                           f"helm -n {ns} history dagster; then {up}"))
    return out


def _cronjob_findings(f: dict, ns: str, up: str) -> list:
    out = []
    for cj in f["cronjobs"]:
        ref = f"cronjob/{cj['name']}"
        if cj["suspended"]:
            out.append(Finding("cronjobs", f"{ref} is suspended",
                               f"kubectl -n {ns} patch {ref} -p '{{\"spec\":{{\"suspend\":false}}}}'"))
        finished = [j for j in cj["jobs"] if j["result"] != "running"]
        if finished and finished[0]["result"] == "failed":
            out.append(Finding("cronjobs", f"{ref}: its last Job, {finished[0]['name']}, failed",
                               f"kubectl -n {ns} logs job/{finished[0]['name']}; once fixed, run it now: "
                               f"kubectl -n {ns} create job --from={ref} {cj['name']}-$(date +%s)"))
    if not any(cj["app"] == BACKUP_APP for cj in f["cronjobs"]):
        out.append(Finding("backups", "there is no backup CronJob", up))
    return out


def _share_findings(f: dict, ns: str, stack: str, up: str) -> list:
    share = f["share"]
    if "error" in share:
        return [Finding("IO share", f"could not be read: {share['error']}", f"kubectl -n {ns} get pods")]
    out = []
    percent = share_percent(share)
    if percent >= SHARE_FULL_PERCENT:
        folders = ", ".join(f"{k} {size(v)}" for k, v in sorted(share["folders"].items()))
        out.append(Finding("IO share", f"{percent}% full ({size(share['available_kb'])} free; {folders or 'no folders'})",
                           "keep step logs for fewer days: pulumi config set --stack "
                           f"{stack} computeLogRetentionDays <days>, or fewer backups: pulumi config set --stack {stack} "
                           f"--path backups.keep <n>; then {up}. Or ask for a larger share"))
    backup = next((cj for cj in f["cronjobs"] if cj["app"] == BACKUP_APP), None)
    scheduled = [d for d in share["dumps"] if d["name"].startswith("scheduled-")]
    if backup and backup["last_success"] and not scheduled:
        out.append(Finding("backups", f"cronjob/{backup['name']} has succeeded, yet the share holds no scheduled backup",
                           f"kubectl -n {ns} logs job/<its last Job>; ls {share['mount']}/backups/postgresql in a pod"))
    return out


def _dagster_findings(f: dict, ns: str, up: str) -> list:
    out = []
    versions = f["versions"]
    unread = sorted(p for p, v in versions.items() if v is None)
    if unread:
        out.append(Finding("dagster", f"could not read the Dagster version in {', '.join(unread)}",
                           f"kubectl -n {ns} exec {unread[0]} -- dagster --version"))
    running = sorted({v for v in versions.values() if v})
    if len(running) > 1:
        out.append(Finding("dagster", f"pods run different Dagster versions: {', '.join(running)}",
                           f"npm run lock, then {up} (the image and the chart must agree)"))
    migrations = f["migrations"]
    if migrations and migrations[0]["result"] == "failed":
        out.append(Finding("dagster", f"the migration Job {migrations[0]['name']} failed; nothing runs its version until it succeeds",
                           f"kubectl -n {ns} logs job/{migrations[0]['name']}; README, \"Upgrading Dagster\""))
    migrated = {m["labels"].get("app.kubernetes.io/version") for m in migrations if m["result"] == "succeeded"}
    for version in running:
        if version not in migrated:
            out.append(Finding("dagster", f"Dagster {version} runs, but no migration Job to {version} has succeeded",
                               f"{up} (it runs the migration Job before the Release)"))
    return out


def report(f: dict, problems: list, now: _dt.datetime) -> list:
    """The report's lines: each part, then what needs a person."""
    lines = [f"Stack {f['stack']}, namespace {f['namespace']}, {now.strftime('%Y-%m-%d %H:%M UTC')}", "", "Pods"]
    for p in sorted(f["pods"], key=lambda p: p["name"]):
        state = "ready" if p["ready"] else ", ".join([p["phase"] or "unknown", *p["waiting"]])
        lines.append(f"  {p['name']}: {state}, {p['restarts']} restarts" + (f" (Job {p['job']})" if p["job"] else ""))
    lines += ["", "CronJobs"]
    for cj in f["cronjobs"]:
        last = cj["jobs"][0] if cj["jobs"] else None
        when = parse_time(last["started"]) if last else None
        failed = sum(j["result"] == "failed" for j in cj["jobs"])
        lines.append(f"  {cj['name']} ({cj['schedule']}): " + (
            f"last Job {last['name']} {last['result']}, {age(when, now)} ago" if last and when else "no Job yet")
            + (f"; failed Jobs kept: {failed}" if failed else ""))
    lines += ["", "IO share"] + _share_lines(f["share"], now)
    lines += ["", "Run history"] + _history_lines(f["history"])
    lines += ["", "Dagster"] + _dagster_lines(f)
    lines.append("")
    if not problems:
        return lines + ["Nothing needs a person."]
    lines.append(f"Needs a person ({len(problems)}):")
    for p in problems:
        lines += [f"  - {p.part}: {p.problem}", f"    do: {p.do}"]
    return lines


def _share_lines(share: dict, now: _dt.datetime) -> list:
    if "error" in share:
        return [f"  not read: {share['error']}"]
    folders = ", ".join(f"{k} {size(v)}" for k, v in sorted(share["folders"].items()))
    lines = [f"  {size(share['used_kb'])} used of {size(share['used_kb'] + share['available_kb'])} "
             f"({share_percent(share)}%), read in pod {share['pod']}" + (f": {folders}" if folders else "")]
    dumps = share["dumps"]
    total = sum(d["bytes"] for d in dumps) / 1024
    lines.append(f"  backups: {len(dumps)} dumps, {size(total)}" if dumps else "  backups: none on the share")
    for d in dumps[:3]:
        when = _dt.datetime.fromtimestamp(d["mtime"], _dt.timezone.utc)
        lines.append(f"    {d['name']}: {size(d['bytes'] / 1024)}, {age(when, now)} old")
    return lines


def _history_lines(history: dict) -> list:
    if "error" in history:
        return [f"  not read: {history['error']}"]
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(history["by_status"].items())) or "none"
    return [f"  {history['runs']} runs ({statuses}), {history['event_log_rows']} event log rows, "
            f"{size(history['database_bytes'] / 1024)} on disk, schema revision {history['schema_revision']}",
            "  queued or in progress: " + (", ".join(f"{n} {s}" for s, n in sorted(history["in_progress"].items())) or "none")]


def _dagster_lines(f: dict) -> list:
    lines = [f"  {pod}: Dagster {v or 'not read'}" for pod, v in sorted(f["versions"].items())]
    done = [m for m in f["migrations"] if m["result"] == "succeeded"]
    lines.append("  migrated to: " + (done[0]["labels"].get("app.kubernetes.io/version", "?") + f" (Job {done[0]['name']})"
                                      if done else "no migration Job has succeeded"))
    r = f["release"]
    lines.append(f"  Release dagster: revision {r['revision']}, {r['status']}, chart {r['chart'] or 'not read'}"
                 if r else "  Release dagster: no Helm record")
    return lines
