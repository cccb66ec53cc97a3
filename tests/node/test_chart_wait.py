"""The chart's wait for each code server (the webserver's and the daemon's init container
`until nslookup <code location>; do echo waiting for user service; sleep 2; done`), run as the
chart renders it from the program's values, in the image the program names for it: it must keep
waiting while the code server's Service is missing and end once it exists. With busybox 1.29 or
later as that image, nslookup exits 1 whenever a search domain answers NXDOMAIN, and the loop
never ends (chart facts, §11): the webserver and daemon would never start."""
from __future__ import annotations

import json
import time

from tests.node import chart_stand_in

NAMESPACE = "wait-check"


def test_the_wait_for_user_code_ends_once_the_code_servers_service_exists(kde04):
    node = kde04.node
    deployment = kde04.values["dagster-user-deployments"]["deployments"][0]
    wait = chart_stand_in.wait_for_user_code(kde04.values, deployment)
    node.kubectl("create", "namespace", NAMESPACE)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "waits", "namespace": NAMESPACE},
           "spec": {"restartPolicy": "Never", "containers": [{**wait, "imagePullPolicy": "IfNotPresent"}]}}
    node.kubectl("apply", "-f", "-", input=json.dumps(pod))
    node.wait_for("the wait to loop", lambda: "waiting for user service" in
                  node.kubectl("-n", NAMESPACE, "logs", "waits", check=False).stdout, timeout=120)
    time.sleep(4)
    assert node.get("pod", "waits", "-n", NAMESPACE)["status"]["phase"] == "Running", "it stopped waiting without a Service"

    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": deployment["name"], "namespace": NAMESPACE},
               "spec": {"ports": [{"port": deployment["port"], "name": "grpc"}], "selector": {"app": "none"}}}
    node.kubectl("apply", "-f", "-", input=json.dumps(service))
    phase = node.wait_for("the wait to end", lambda: node.get("pod", "waits", "-n", NAMESPACE)["status"]["phase"]
                          in ("Succeeded", "Failed") and node.get("pod", "waits", "-n", NAMESPACE)["status"]["phase"],
                          timeout=60)
    log = node.kubectl("-n", NAMESPACE, "logs", "waits").stdout
    assert phase == "Succeeded", f"{wait['image']} kept waiting for a Service that exists:\n{log[-2000:]}"
    assert wait["command"][2] == (
        f"until nslookup {deployment['name']}; do echo waiting for user service; sleep 2; done")
