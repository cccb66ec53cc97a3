"""A real Kubernetes control plane for the tests, on loopback: etcd, kube-apiserver,
kube-controller-manager, kube-scheduler and kwok, built by control-plane/build.sh.

What it is: the API server itself (admission, defaulting, validation, server-side apply), the
controllers (PersistentVolume binding, StatefulSets, Jobs, CronJobs, EndpointSlices, namespace
deletion) and the scheduler. What it is not: a cluster that runs anything. No kubelet and no
container runtime exist; kwok fakes the node and moves pods to Running and Ready (Job pods to
Succeeded) without starting a container, so no image is pulled and no command runs.

Each test module starts its own (`running()`, about 5 s), stopped and deleted after. The admin is
a static token in the system:masters group, written into a kubeconfig the tests hand to kubectl.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from tests.harness.ports import free_port

HOST = "127.0.0.1"
BIN_ENV = "IMQCAM_CONTROL_PLANE_BIN"
SERVICE_RANGE = "10.96.0.0/16"
# The production node (Pulumi.kde04.yaml's nodeHostname), faked by kwok, sized like kde04.
NODE_NAME = "kde04.idies.jhu.edu"
NODE_CAPACITY = {"cpu": "32", "memory": "128Gi", "pods": "110", "ephemeral-storage": "500Gi"}
KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node"


def binaries() -> Path:
    found = os.environ.get(BIN_ENV)
    if not found:
        raise RuntimeError(f"{BIN_ENV} is not set: run the tests through scripts/test-cluster.sh, "
                           "which builds the control plane (control-plane/build.sh) and sets it")
    return Path(found)


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _certificates(pki: Path) -> None:
    """A CA, the API server's serving certificate for 127.0.0.1, and the service-account key pair."""
    pki.mkdir()
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=imqcam-test-ca",
             "-keyout", "ca.key", "-out", "ca.crt", cwd=pki)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=kube-apiserver",
             "-keyout", "apiserver.key", "-out", "apiserver.csr", cwd=pki)
    (pki / "san.ext").write_text(
        "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes.default.svc\n"
        "extendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", "apiserver.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "2", "-extfile", "san.ext", "-out", "apiserver.crt", cwd=pki)
    _openssl("genrsa", "-out", "sa.key", "2048", cwd=pki)
    _openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=pki)


@dataclass
class ControlPlane:
    root: Path
    bin: Path
    port: int
    kubeconfig: Path
    processes: dict = field(default_factory=dict)
    started_seconds: float = 0.0
    node_name: str = NODE_NAME
    # A prefix for every process of and against this plane (the real node's `nsenter --net=...`).
    wrap: list = field(default_factory=list)

    @property
    def env(self) -> dict:
        """The environment for kubectl (and anything that reads KUBECONFIG), built kubectl first."""
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig), "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}"}

    def kubectl(self, *args: str, input: Optional[str] = None, check: bool = True,
                timeout: float = 300) -> subprocess.CompletedProcess:
        proc = subprocess.run([*self.wrap, str(self.bin / "kubectl"), *args], env=self.env, input=input,
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
        return proc

    def helm(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """The built Helm against this plane; fails with Helm's own message."""
        proc = subprocess.run([*self.wrap, str(self.bin / "helm"), *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout)
        if proc.returncode != 0:
            raise AssertionError(f"helm {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
        return proc

    def get(self, *args: str) -> dict:
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def wait_for(self, what: str, ready, timeout: float = 120, interval: float = 0.5):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            self._check_alive()  # a component that died fails the wait at once, with its log
            last = ready()
            if last:
                return last
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; logs in {self.root}")

    def log(self, name: str) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def _spawn(self, name: str, argv: list) -> None:
        log = open(self.root / f"{name}.log", "wb")
        self.processes[name] = subprocess.Popen([*self.wrap, *argv], stdout=log, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL, start_new_session=True)

    def _check_alive(self) -> None:
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log(name)}")

    def add_node(self, name: str = NODE_NAME) -> None:
        """A node that kwok keeps Ready, labelled as kubelet labels a real one."""
        node = {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "annotations": {KWOK_NODE_ANNOTATION: "fake"},
                         "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                    "kubernetes.io/arch": "amd64", "type": "kwok"}},
            "status": {"capacity": NODE_CAPACITY, "allocatable": NODE_CAPACITY},
        }
        self.kubectl("create", "-f", "-", input=json.dumps(node))

        def ready() -> bool:
            conditions = self.get("node", name).get("status", {}).get("conditions", [])
            return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
        self.wait_for(f"node {name} Ready (kwok)", ready, timeout=60)

    def stop(self) -> None:
        self._stop_processes()
        if os.environ.get("IMQCAM_KEEP_CONTROL_PLANE") != "1":
            shutil.rmtree(self.root, ignore_errors=True)

    def _stop_processes(self) -> None:
        # The reverse of the start, each gone before the next: the API server shuts down while
        # etcd still answers, instead of retrying a closed etcd until it is killed.
        for proc in reversed(list(self.processes.values())):
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def start(bin_dir: Optional[Path] = None) -> ControlPlane:
    began = time.monotonic()
    bin_dir = bin_dir or binaries()
    root = Path(tempfile.mkdtemp(prefix="imqcam-k8s-"))
    pki = root / "pki"
    _certificates(pki)
    token = secrets.token_hex(24)
    (root / "tokens.csv").write_text(f'{token},imqcam-admin,imqcam-admin,"system:masters"\n')
    port = free_port()
    kubeconfig = root / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "imqcam-test",
        "clusters": [{"name": "imqcam-test", "cluster": {
            "server": f"https://{HOST}:{port}", "certificate-authority": str(pki / "ca.crt")}}],
        "users": [{"name": "imqcam-admin", "user": {"token": token}}],
        "contexts": [{"name": "imqcam-test", "context": {"cluster": "imqcam-test", "user": "imqcam-admin"}}],
    }))
    kubeconfig.chmod(0o600)
    plane = ControlPlane(root=root, bin=bin_dir, port=port, kubeconfig=kubeconfig)
    try:
        etcd_client, etcd_peer = free_port(), free_port()
        plane._spawn("etcd", [
            str(bin_dir / "etcd"), "--name", "imqcam-test", "--data-dir", str(root / "etcd"),
            "--listen-client-urls", f"http://{HOST}:{etcd_client}",
            "--advertise-client-urls", f"http://{HOST}:{etcd_client}",
            "--listen-peer-urls", f"http://{HOST}:{etcd_peer}",
            "--initial-advertise-peer-urls", f"http://{HOST}:{etcd_peer}",
            "--initial-cluster", f"imqcam-test=http://{HOST}:{etcd_peer}",
            "--listen-metrics-urls", f"http://{HOST}:{free_port()}",
            "--unsafe-no-fsync", "--log-level", "warn",
        ])
        plane._spawn("kube-apiserver", [
            str(bin_dir / "kube-apiserver"),
            f"--etcd-servers=http://{HOST}:{etcd_client}",
            f"--bind-address={HOST}", f"--advertise-address={HOST}", f"--secure-port={port}",
            f"--tls-cert-file={pki / 'apiserver.crt'}", f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}", f"--token-auth-file={root / 'tokens.csv'}",
            "--authorization-mode=Node,RBAC",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            f"--service-cluster-ip-range={SERVICE_RANGE}",
            # The "kubernetes" Service cannot point at a loopback address; nothing here needs it.
            "--endpoint-reconciler-type=none",
            "--allow-privileged=true",
        ])
        plane.wait_for("the API server's /readyz",
                       lambda: plane.kubectl("get", "--raw", "/readyz", check=False).returncode == 0, timeout=180)
        plane._spawn("kube-controller-manager", [
            str(bin_dir / "kube-controller-manager"),
            f"--kubeconfig={kubeconfig}", "--leader-elect=false",
            f"--bind-address={HOST}", f"--secure-port={free_port()}",
            f"--service-account-private-key-file={pki / 'sa.key'}", f"--root-ca-file={pki / 'ca.crt'}",
            "--use-service-account-credentials=false",
            f"--service-cluster-ip-range={SERVICE_RANGE}",
            # Quick resync so claims bind within seconds rather than the default 15 s.
            "--pvclaimbinder-sync-period=1s",
        ])
        plane._spawn("kube-scheduler", [
            str(bin_dir / "kube-scheduler"), f"--kubeconfig={kubeconfig}", "--leader-elect=false",
            f"--bind-address={HOST}", f"--secure-port={free_port()}",
        ])
        plane._spawn("kwok", [
            # kwok's own "fast" stages (control-plane/build.sh copies them from its module): nodes
            # Ready with a lease heartbeat, pods Running and Ready at once, Job pods Succeeded.
            str(bin_dir / "kwok"), f"--kubeconfig={kubeconfig}", f"--config={bin_dir / 'kwok-stages.yaml'}",
            "--manage-all-nodes=false",
            f"--manage-nodes-with-annotation-selector={KWOK_NODE_ANNOTATION}=fake",
            # Renew the node's Lease, as a kubelet does: without it the node goes NotReady after
            # the controller manager's grace period, and its pods with it.
            "--node-lease-duration-seconds=40",
            "--cidr=10.244.0.0/16", f"--node-ip={HOST}", f"--server-address={HOST}:{free_port()}",
        ])
        # Ready for the tests once the default ServiceAccount exists (the controllers run).
        plane.wait_for("the controller manager (ServiceAccount default/default)",
                       lambda: plane.kubectl("get", "serviceaccount", "default", "-n", "default", check=False).returncode == 0,
                       timeout=180)
        plane.add_node()
    except BaseException:
        plane.stop()
        raise
    plane.started_seconds = time.monotonic() - began
    return plane


@contextlib.contextmanager
def running():
    """A control plane for the length of a `with` block (a pytest fixture's module)."""
    plane = start()
    try:
        yield plane
    finally:
        plane.stop()
