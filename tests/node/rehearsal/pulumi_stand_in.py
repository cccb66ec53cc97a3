"""`pulumi` for the takeover rehearsal: the three commands the takeover runs, done as the real CLI
would do them against the real node, where no Pulumi engine and no Helm chart can run.

- `whoami`: logged in.
- `config set --secret --path envSecrets.<Secret>.<KEY> --stack S` (value on stdin, one trailing
  newline stripped): the stack file gets an encrypted-looking entry, and the value is kept in the
  rehearsal's own folder (0600) for `up`, as the real CLI keeps it encrypted in the stack file.
- `up --stack S --yes`: the program's checks before the first resource, run by the program's own
  code against the node (scripts/checkCluster.ts, `IMQCAM_TAKE_OVER` passed through: a refusal
  fails here as `pulumi up` fails); then every object of one evaluation of the program
  (scripts/objects.ts, the copied envSecrets values in), server-side applied under the provider's
  field manager in the engine's order: everything but the migration Job, the Job once the database
  and broker are ready, then the Release, whose objects come from chart_stand_in.py (the chart
  cannot be fetched here), and the program's patches of them; it waits as the engine waits for
  readiness. What is not the engine's: no state, no diff, no deletion of objects the program no
  longer sends.

Reads the node from IMQCAM_REHEARSAL (JSON: the plane's fields and the rehearsal's folder).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import yaml

from tests.cluster import program
from tests.harness import real_node
from tests.node import stack_on_node

CONFIG_KEY = "imqcam-dagster:envSecrets"


def _context() -> tuple:
    ctx = json.loads(os.environ["IMQCAM_REHEARSAL"])
    node = real_node.RealNode(root=Path(ctx["root"]), bin=Path(ctx["bin"]), port=ctx["port"],
                              kubeconfig=Path(ctx["kubeconfig"]), node_name=ctx["node_name"])
    return node, Path(ctx["folder"])


def _values_file(folder: Path) -> Path:
    return folder / "config-values.json"


def config_set(argv: list) -> int:
    path, stack = argv[argv.index("--path") + 1], argv[argv.index("--stack") + 1]
    assert "--secret" in argv and path.startswith("envSecrets."), argv
    _, secret, key = path.split(".")
    value = sys.stdin.read()
    value = value[:-1] if value.endswith("\n") else value
    _, folder = _context()
    values_file = _values_file(folder)
    values = json.loads(values_file.read_text()) if values_file.exists() else {}
    values.setdefault(secret, {})[key] = value
    values_file.write_text(json.dumps(values))
    values_file.chmod(0o600)
    stack_file = program.REPO / f"Pulumi.{stack}.yaml"
    doc = yaml.safe_load(stack_file.read_text())
    doc["config"].setdefault(CONFIG_KEY, {}).setdefault(secret, {})[key] = {"secure": "v1:rehearsal-ciphertext"}
    stack_file.write_text(yaml.safe_dump(doc, sort_keys=False))
    return 0


def up(argv: list) -> int:
    stack = argv[argv.index("--stack") + 1]
    node, folder = _context()
    env = {k: v for k, v in os.environ.items() if k == "IMQCAM_TAKE_OVER"}
    checked = program.check_cluster(node, stack, env=env)
    if checked["error"]:
        print(f"error: {checked['message']}", file=sys.stderr)
        return 255
    values_file = _values_file(folder)
    copied = json.loads(values_file.read_text()) if values_file.exists() else {}
    result = stack_on_node.evaluation({"envSecrets": {"value": copied, "secret": True}} if copied else {}, stack=stack)
    objs = stack_on_node.fit_requests(result["objects"])
    namespace = next(o for o in objs if o["kind"] == "Namespace")["metadata"]["name"]
    stack_on_node.apply_program(node, objs, timeout=400)
    release = stack_on_node.apply_release(node, result["releaseValues"], namespace, result["patches"])
    print(f"Update succeeded: {len(objs)} objects and the release's {len(release)}")
    return 0


def main(argv: list) -> int:
    if argv[:1] == ["whoami"]:
        print("imqcam-rehearsal")
        return 0
    if argv[:2] == ["config", "set"]:
        return config_set(argv)
    if argv[:1] == ["up"]:
        return up(argv)
    print(f"pulumi stand-in: unexpected arguments {argv}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
