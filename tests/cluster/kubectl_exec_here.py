"""kubectl for the takeover's tests: every command goes to the real kubectl and the real API server
(REAL_KUBECTL), except `exec`, which needs a kubelet and none runs here. `kubectl exec -i -n NS
POD -c CONTAINER -- sh -c SCRIPT` runs SCRIPT on this machine instead, with that container's
environment as the API server holds it (plain values, and Secret keys read from the real Secrets),
plus EXEC_HERE_ENV (JSON: where the test's real PostgreSQL listens, and its tools on PATH)."""
import base64
import json
import os
import subprocess
import sys

real = os.environ["REAL_KUBECTL"]
args = sys.argv[1:]
if not args or args[0] != "exec":
    os.execv(real, [real, *args])

shape = ["exec", "-i", "-n", None, None, "-c", None, "--", "sh", "-c", None]
if len(args) != len(shape) or any(want is not None and got != want for want, got in zip(shape, args)):
    sys.exit(f"kubectl_exec_here: unexpected exec arguments {args}")
namespace, pod_name, container, script = args[3], args[4], args[6], args[10]


def get(*what: str) -> dict:
    done = subprocess.run([real, "get", *what, "-n", namespace, "-o", "json"], capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        sys.exit(1)
    return json.loads(done.stdout)


pod = get("pod", pod_name)
if pod["status"].get("phase") != "Running":
    sys.exit(f"error: unable to upgrade connection: pod {pod_name} is not running")
spec = next((c for c in pod["spec"]["containers"] if c["name"] == container), None)
if spec is None:
    sys.exit(f'error: container {container} is not valid for pod {pod_name}')
env = {}
for var in spec.get("env", []):
    ref = var.get("valueFrom", {}).get("secretKeyRef")
    if ref:
        env[var["name"]] = base64.b64decode(get("secret", ref["name"])["data"][ref["key"]]).decode()
    elif "value" in var:
        env[var["name"]] = var["value"]
env.update(json.loads(os.environ.get("EXEC_HERE_ENV", "{}")))
os.execve("/bin/sh", ["sh", "-c", script], env)
