"""Network isolation (src/components/parts/networkAccess.ts), pair by pair:

1. The truth table: for every pair of the stack's kinds of pod (labels from where each gets them,
   pod_roles.py) and a pod of another namespace, plus the API server, the cluster's DNS and an address
   outside the cluster, cyclonus (tests/harness/policy_analyser) computes from the program's own
   NetworkPolicy objects what may connect; it must be the table README states (EXPECTED).
2. Each policy matters: without any one of them, the table changes.
3. On the node, kube-router enforces them: real connections from real pods of each kind (or bare pods
   carrying their labels) to the real servers are made or refused exactly as cyclonus says for those
   same pods, by their live labels and addresses.
4. `kubectl port-forward` reaches the webserver, which no pod reaches.
A run succeeding with the policies on is test_runs.py's, on this same node.
"""
from __future__ import annotations

import itertools
import json
import shlex
import subprocess

import pytest

from tests.harness import real_node
from tests.node import pod_roles, stack_on_node
from tests.node.test_servers import dagster_image

NEIGHBOUR = "neighbour"  # another group's namespace on a shared cluster
OUTSIDE_IP = "203.0.113.10"  # an address outside the cluster (TEST-NET-3)
HISTORY = {"webserver", "daemon", "codeServers", "celeryWorkers", "runPods", "stepPods", "instanceMigration",
           "databaseBackups"}
CALLS_API = {"webserver", "daemon", "celeryWorkers", "runPods"}
USER_CODE = {"codeServers", "runPods", "stepPods"}
ROLES = sorted(HISTORY | {"postgresql", "rabbitmq", "computeLogPruning"})
SOURCES = ROLES + [NEIGHBOUR]
# Destination -> the sources that may connect to it (README, "Network isolation").
EXPECTED = {
    "postgresql": HISTORY,
    "rabbitmq": {"celeryWorkers", "runPods"},
    "codeServers": {"webserver", "daemon", "runPods"},
    "webserver": set(),
    NEIGHBOUR: USER_CODE | {NEIGHBOUR},
    "apiServer": CALLS_API | USER_CODE | {NEIGHBOUR},
    "outside": USER_CODE | {NEIGHBOUR},
    "dns": set(SOURCES),
}
PORTS = {"postgresql": 5432, "rabbitmq": 5672, "codeServers": 3030, "webserver": 80, NEIGHBOUR: 8080,
         "apiServer": real_node.API_PORT, "outside": 443, "dns": 53}
KUBE_DNS = {"k8s-app": "kube-dns"}


def peer(namespace: str | None, labels: dict | None, ip: str) -> dict:
    """A cyclonus TrafficPeer: a pod (namespace and labels) or an address outside the cluster."""
    internal = None if namespace is None else {
        "PodLabels": labels, "Namespace": namespace, "NamespaceLabels": {"kubernetes.io/metadata.name": namespace}}
    return {"Internal": internal, "IP": ip}


def analyse(node, policies: list, pairs: list) -> dict:
    """{(source, destination): allowed} by cyclonus, for pairs of (name, peer, name, peer, port)."""
    traffic = [{"Source": s, "Destination": d, "ResolvedPort": port, "ResolvedPortName": "", "Protocol": "TCP"}
               for _, s, _, d, port in pairs]
    done = subprocess.run([str(node.bin / "policy-analyser")], input=json.dumps({"policies": policies, "traffic": traffic}),
                          capture_output=True, text=True, check=True)
    verdicts = json.loads(done.stdout)
    return {(src, dst): v["ingress"] and v["egress"] for (src, _, dst, _, _), v in zip(pairs, verdicts)}


def table(verdicts: dict) -> dict:
    """Destination -> the sources allowed to it."""
    return {dst: {src for (src, d), ok in verdicts.items() if d == dst and ok} for dst in EXPECTED}


def policies_of(kde04) -> list:
    return [o for o in kde04.objects if o["kind"] == "NetworkPolicy"]


def modelled_pairs(kde04) -> list:
    """Every source to every destination, each kind of pod at an address of the pod network."""
    labels = pod_roles.role_labels(kde04.objects, kde04.values, kde04.namespace)
    pods = {role: peer(kde04.namespace, labels[role], f"10.244.0.{10 + i}") for i, role in enumerate(ROLES)}
    pods[NEIGHBOUR] = peer(NEIGHBOUR, {"app": "kafka"}, "10.244.0.200")
    destinations = {**{role: pods[role] for role in EXPECTED if role in pods}, "apiServer": peer(None, None, real_node.NODE_IP),
                    "outside": peer(None, None, OUTSIDE_IP), "dns": peer("kube-system", KUBE_DNS, "10.244.0.2")}
    return [(src, pods[src], dst, d, PORTS[dst]) for src in SOURCES for dst, d in destinations.items()]


def test_the_program_s_policies_allow_exactly_readme_s_table(kde04):
    got = table(analyse(kde04.node, policies_of(kde04), modelled_pairs(kde04)))
    for dst in EXPECTED:
        assert sorted(got[dst]) == sorted(EXPECTED[dst]), f"who reaches {dst}"


def test_without_any_one_policy_the_table_changes(kde04):
    policies, pairs = policies_of(kde04), modelled_pairs(kde04)
    full = analyse(kde04.node, policies, pairs)
    assert len(policies) == 13
    for dropped in policies:
        rest = [p for p in policies if p is not dropped]
        assert analyse(kde04.node, rest, pairs) != full, f"{dropped['metadata']['name']} changes nothing"


# --- On the node: kube-router enforcing the same policies ---------------------------------------

LISTEN = "python3 -m http.server {port} --bind 0.0.0.0"
# Bash's /dev/tcp, each target at once, 3 s each: refused by policy or not answering is "closed".
PROBE = ('for t in "$@"; do (timeout 3 bash -c "exec 3<>/dev/tcp/${t%:*}/${t#*:}" 2>/dev/null '
         '&& echo "$t open" || echo "$t closed") & done; wait')


# The kinds with no long-running pod of their own (and the webserver, which no pod may reach to
# show it): bare pods stand in for them, with their labels.
STAND_IN_ROLES = ("webserver", "runPods", "stepPods", "instanceMigration", "databaseBackups", "computeLogPruning")


def _pod(name: str, namespace: str, labels: dict, image: str, command: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"containers": [{"name": "main", "image": image, "imagePullPolicy": "IfNotPresent",
                                     "command": ["sh", "-c", command]}], "terminationGracePeriodSeconds": 1}}


@pytest.fixture(scope="module")
def live(kde04, dagster_release):
    """Pods of every kind, running: the real servers and chart pods, and bare pods with the labels of
    the kinds that have none running now (the webserver listening on its port), and a neighbour's."""
    node, ns = kde04.node, kde04.namespace
    image = dagster_image(kde04)
    node.kubectl("create", "namespace", NEIGHBOUR)
    stand_ins = {"webserver": LISTEN.format(port=80)}
    pods = [_pod(f"as-{role.lower()}", ns, pod_roles.stand_in_labels(kde04.objects, kde04.values, ns, role), image,
                 stand_ins.get(role, "sleep 3600"))
            for role in STAND_IN_ROLES]
    pods.append(_pod("kafka", NEIGHBOUR, {"app": "kafka"}, image, LISTEN.format(port=8080)))
    node.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": pods}))
    for pod in pods:
        node.kubectl("wait", "--for=condition=Ready", f"pod/{pod['metadata']['name']}", "-n",
                     pod["metadata"]["namespace"], "--timeout=180s", timeout=200)
    yield
    node.kubectl("delete", "namespace", NEIGHBOUR, "--wait=false")
    # Gone before the next module lists the namespace's Dagster pods by label.
    node.kubectl("delete", "pods", "-n", ns, *[p["metadata"]["name"] for p in pods[:-1]], "--wait=true", timeout=120)


@pytest.fixture(scope="module")
def dagster_release(kde04):
    return stack_on_node.apply_release(kde04.node, kde04.values, kde04.namespace, kde04.patches)


def _running(node, namespace: str, selector: dict) -> dict:
    found = [p for p in node.get("pods", "-n", namespace, "-l", ",".join(f"{k}={v}" for k, v in selector.items()))["items"]
             if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")]
    assert found, f"no running pod with {selector} in {namespace}"
    return found[0]


def live_pods(kde04) -> dict:
    """{kind: pod} of one running pod per source, found by the labels each kind really carries."""
    labels = pod_roles.role_labels(kde04.objects, kde04.values, kde04.namespace)
    pods = {}
    for role in ROLES:
        stand_in = f"as-{role.lower()}"
        if role in STAND_IN_ROLES:
            pods[role] = kde04.node.get("pod", stand_in, "-n", kde04.namespace)
        else:
            pods[role] = _running(kde04.node, kde04.namespace, labels[role])
    pods[NEIGHBOUR] = kde04.node.get("pod", "kafka", "-n", NEIGHBOUR)
    return pods


def test_kube_router_makes_and_refuses_connections_as_the_analyser_says(kde04, live):
    pods = live_pods(kde04)
    dns = _running(kde04.node, "kube-system", KUBE_DNS)
    as_peer = lambda p: peer(p["metadata"]["namespace"], p["metadata"]["labels"], p["status"]["podIP"])  # noqa: E731
    destinations = {role: pods[role] for role in EXPECTED if role in pods}
    targets = {dst: (as_peer(p), p["status"]["podIP"]) for dst, p in destinations.items()}
    targets["apiServer"] = (peer(None, None, real_node.NODE_IP), real_node.NODE_IP)
    targets["dns"] = (as_peer(dns), dns["status"]["podIP"])
    pairs = [(src, as_peer(pods[src]), dst, d, PORTS[dst]) for src in SOURCES for dst, (d, _) in targets.items()
             if pods[src]["metadata"]["uid"] != destinations.get(dst, {}).get("metadata", {}).get("uid")]
    predicted = analyse(kde04.node, policies_of(kde04), pairs)
    # The listeners answer where no policy stands between: from the node itself.
    for dst in ("webserver", NEIGHBOUR, "postgresql", "rabbitmq", "codeServers"):
        ip = targets[dst][1]
        reached = kde04.node.wrap + ["timeout", "3", "bash", "-c", f"exec 3<>/dev/tcp/{ip}/{PORTS[dst]}"]
        assert subprocess.run(reached).returncode == 0, f"{dst} does not listen on {ip}:{PORTS[dst]}"
    seen = {}
    for src in SOURCES:
        pod = pods[src]
        wanted = {f"{targets[dst][1]}:{PORTS[dst]}": dst for (s, dst) in predicted if s == src}
        container = pod["spec"]["containers"][0]["name"]
        done = kde04.node.kubectl("exec", pod["metadata"]["name"], "-n", pod["metadata"]["namespace"], "-c", container,
                                  "--", "bash", "-c", PROBE, "probe", *wanted, timeout=60)
        for line in done.stdout.split("\n"):
            if line.strip():
                target, state = line.split()
                seen[(src, wanted[target])] = state == "open"
    differ = {pair: (seen.get(pair), ok) for pair, ok in predicted.items() if seen.get(pair) != ok}
    assert not differ, f"(source, destination): (connected, analyser's verdict): {differ}"
    assert table(seen)["webserver"] == set() and table(seen)["postgresql"] == HISTORY


def test_port_forward_reaches_the_webserver_that_no_pod_reaches(kde04, live):
    with stack_on_node.port_forward(kde04.node, kde04.namespace, "pod/as-webserver", 80) as port:
        got = subprocess.run(kde04.node.wrap + ["python3", "-c", "import urllib.request, sys; "
                             f"print(urllib.request.urlopen('http://127.0.0.1:{port}/', timeout=10).status)"],
                             capture_output=True, text=True, timeout=30)
    assert got.stdout.strip() == "200", got.stderr


def test_readme_s_api_server_lookup_prints_the_endpoint_the_tests_narrow_it_to(kde04):
    """README's command for `network.apiServer`, run as written: the address and port pods reach the
    API server at, which stack_on_node.settings names."""
    readme = (stack_on_node.program.REPO / "README.md").read_text().replace("\\\n", " ")
    [line] = [line.strip() for line in readme.splitlines() if line.strip().startswith("kubectl get endpointslices")]
    done = kde04.node.kubectl(*shlex.split(line)[1:])
    assert done.stdout.split() == [real_node.NODE_IP, str(real_node.API_PORT)], done.stdout
    narrowed = stack_on_node.settings(kde04.io_dir)["network"]["value"]["apiServer"]
    assert narrowed == {"cidrs": [f"{real_node.NODE_IP}/32"], "ports": [real_node.API_PORT]}


def test_readme_s_enforcement_check_says_enforced(kde04, live):
    """README's check from another namespace, its lines run as written by a shell, one after the
    other (the image is the stand-in of the same reference, imported on the node)."""
    lines = (stack_on_node.program.REPO / "README.md").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("kubectl run np-check"))
    block = [line.strip() for line in itertools.takewhile(str.strip, lines[start:])]
    assert [line.split()[:2] for line in block] == [["kubectl", "run"], ["kubectl", "wait"], ["kubectl", "delete"]], block
    printed = []
    for line in block:
        done = subprocess.run(kde04.node.wrap + ["bash", "-c", line], env=kde04.node.env, capture_output=True,
                              text=True, timeout=180)
        assert done.returncode == 0, f"{line}\n{done.stdout}{done.stderr}"
        printed += done.stdout.splitlines()
    assert "refused: enforced" in printed and not [line for line in printed if "REACHED" in line], printed
    assert kde04.node.kubectl("get", "pod", "np-check", "-n", "default", check=False).returncode != 0, "left behind"
