"""A real one-node Kubernetes for the tests: the control plane of kube_control_plane.py plus a real
kubelet, kube-proxy (iptables), CoreDNS, containerd, runc and the bridge CNI, so pods run as real
containers, and kube-router's firewall, which enforces NetworkPolicy as kde04's network plugin must. Everything runs inside a network namespace made for the test, holding only `lo` (with
the node's address) and the pods' bridge: no default route, no masquerading, no upstream resolver,
so a pod reaches nothing outside it. The harness refuses to start when the namespace has a route
out. Images are imported from OCI archives (test-images/build.sh); nothing is ever pulled.

The node is named and labelled `kde04.idies.jhu.edu`, like the production node. It has the
machine's own CPUs and memory (2 CPUs here): see `fit_requests` for how the tests fit the stack.

`start()` brings it up in about 15 s once the images are imported; `stop()` takes down everything
it started, in reverse order: processes, containers and their shims, mounts, the pods' cgroups and
network namespaces, then its own namespace and folder.
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

from tests.harness import kube_control_plane as kcp

NODE_IP = "10.250.0.1"  # on the namespace's own lo: the kernel here has no dummy links
POD_CIDR = "10.244.0.0/24"
POD_GATEWAY = "10.244.0.1"
DNS_IP = "10.96.0.10"
API_PORT = 6443
IMAGES_ENV = "IMQCAM_NODE_IMAGES"
# kubelet 1.37 on this machine's cgroup v1: allowed explicitly, with the cgroupfs driver.
KUBELET_CONFIG = """\
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
failSwapOn: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://{run}/containerd.sock
podLogsDir: {root}/pod-logs
address: {node_ip}
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: {pki}/kubelet.crt
tlsPrivateKeyFile: {pki}/kubelet.key
authentication: {{anonymous: {{enabled: false}}, webhook: {{enabled: false}}, x509: {{clientCAFile: {pki}/ca.crt}}}}
authorization: {{mode: AlwaysAllow}}
clusterDomain: cluster.local
clusterDNS: [{dns_ip}]
resolvConf: ""
registerNode: true
rotateCertificates: false
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {{memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%"}}
maxPods: 110
"""
# This machine lacks CAP_SYS_RESOURCE: without restrict_oom_score_adj every sandbox fails in runc.
CONTAINERD_CONFIG = """\
version = 2
root = "{root}/containerd"
state = "{run}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.internal.v1.opt", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "{run}/containerd.sock"
[ttrpc]
  address = "{run}/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:local"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{root}/cni"
"""
# CoreDNS answers for the cluster's names only: no `forward`, so nothing outside is ever asked.
COREDNS_OBJECTS = """\
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: coredns, namespace: kube-system}}
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRole
  metadata: {name: "system:coredns"}
  rules:
  - {apiGroups: [""], resources: [endpoints, services, pods, namespaces], verbs: [list, watch]}
  - {apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list, watch]}
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRoleBinding
  metadata: {name: "system:coredns"}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}
  subjects: [{kind: ServiceAccount, name: coredns, namespace: kube-system}]
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: coredns, namespace: kube-system}
  data:
    Corefile: |
      .:53 {
          errors
          health :8080
          ready :8181
          kubernetes cluster.local in-addr.arpa ip6.arpa {
              pods insecure
              fallthrough in-addr.arpa ip6.arpa
          }
          cache 30
          loadbalance
      }
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
  spec:
    replicas: 1
    selector: {matchLabels: {k8s-app: kube-dns}}
    template:
      metadata: {labels: {k8s-app: kube-dns}}
      spec:
        serviceAccountName: coredns
        dnsPolicy: Default
        containers:
        - name: coredns
          image: registry.k8s.io/coredns/coredns:local
          imagePullPolicy: Never
          args: [-conf, /etc/coredns/Corefile]
          volumeMounts: [{name: config, mountPath: /etc/coredns, readOnly: true}]
          ports: [{containerPort: 53, name: dns, protocol: UDP}, {containerPort: 53, name: dns-tcp, protocol: TCP}]
          readinessProbe: {httpGet: {path: /ready, port: 8181}, periodSeconds: 2}
        volumes: [{name: config, configMap: {name: coredns}}]
- apiVersion: v1
  kind: Service
  metadata: {name: kube-dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
  spec:
    clusterIP: %s
    selector: {k8s-app: kube-dns}
    ports: [{name: dns, port: 53, protocol: UDP}, {name: dns-tcp, port: 53, protocol: TCP}]
""" % DNS_IP


def references() -> dict:
    """{name: {reference, digest, archive}} of the images test-images/build.sh made."""
    return json.loads((images_dir() / "references.json").read_text())


def images_dir() -> Path:
    found = os.environ.get(IMAGES_ENV)
    if not found:
        raise RuntimeError(f"{IMAGES_ENV} is not set: run the tests through scripts/test-node.sh, which builds "
                           "the images (test-images/build.sh) and sets it")
    return Path(found)


def _run(*argv: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(list(argv), capture_output=True, text=True, **kwargs)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return done


def _certificates(pki: Path) -> None:
    """The CA, serving certificates for the API server and the kubelet, the API server's client
    identity towards the kubelet (logs, exec), and the service-account key pair."""
    pki.mkdir()
    o = lambda *args: kcp._openssl(*args, cwd=pki)  # noqa: E731
    o("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=imqcam-node-ca",
      "-keyout", "ca.key", "-out", "ca.crt")

    def cert(name: str, subject: str, extensions: str) -> None:
        o("req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", f"{name}.key", "-out", f"{name}.csr")
        (pki / f"{name}.ext").write_text(extensions)
        o("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
          "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.crt")
    cert("apiserver", "/CN=kube-apiserver",
         f"subjectAltName=IP:127.0.0.1,IP:{NODE_IP},IP:10.96.0.1,DNS:localhost,DNS:kubernetes,"
         "DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n"
         "extendedKeyUsage=serverAuth\n")
    cert("apiserver-kubelet-client", "/O=system:masters/CN=kube-apiserver-kubelet-client", "extendedKeyUsage=clientAuth\n")
    cert("kubelet", f"/CN={kcp.NODE_NAME}",
         f"subjectAltName=IP:{NODE_IP},IP:127.0.0.1,DNS:{kcp.NODE_NAME}\nextendedKeyUsage=serverAuth\n")
    o("genrsa", "-out", "sa.key", "2048")
    o("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub")


def _kubeconfig(path: Path, token: str, ca: Path) -> None:
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "imqcam-node",
        "clusters": [{"name": "imqcam-node", "cluster": {
            "server": f"https://127.0.0.1:{API_PORT}", "certificate-authority": str(ca)}}],
        "users": [{"name": "u", "user": {"token": token}}],
        "contexts": [{"name": "imqcam-node", "context": {"cluster": "imqcam-node", "user": "u"}}],
    }))
    path.chmod(0o600)


@dataclass
class RealNode(kcp.ControlPlane):
    """The plane with its real node; kubectl, helm and every process run inside its namespace."""
    netns: str = ""
    run_dir: Path = field(default_factory=Path)  # containerd's sockets and state, under /run

    @property
    def ctr(self) -> list:
        return ["ctr", "-a", str(self.run_dir / "containerd.sock"), "-n", "k8s.io"]

    def import_images(self, images: dict) -> None:
        """Each archive under its reference, and under `repository@digest` too: the kubelet looks a
        pinned image up by that name, and would otherwise try to pull it."""
        for image in images.values():
            _run(*self.ctr, "images", "import", "--no-unpack", image["archive"])
            listed = _run(*self.ctr, "images", "ls", "-q").stdout.split()
            if image["reference"] not in listed:
                raise RuntimeError(f"importing {image['archive']} did not make {image['reference']}: {listed}")
            by_digest = f"{image['reference'].rsplit(':', 1)[0]}@{image['digest']}"
            _run(*self.ctr, "images", "tag", "--force", image["reference"], by_digest)

    def stop(self) -> None:
        # The control plane and the node's agents first, in reverse start order, then the containers
        # through containerd, then containerd itself.
        containerd = self.processes.pop("containerd", None)
        self._stop_processes()
        pod_netns = set()
        if containerd is not None and containerd.poll() is None:
            tasks = _run(*self.ctr, "tasks", "ls", check=False).stdout.splitlines()[1:]
            for line in tasks:
                fields = line.split()
                if len(fields) >= 2:
                    found = _run("ip", "netns", "identify", fields[1], check=False).stdout.split()
                    pod_netns.update(n for n in found if n.startswith("cni-"))
            for line in tasks:
                _run(*self.ctr, "tasks", "kill", "-s", "KILL", line.split()[0], check=False)
            time.sleep(1)
            for line in tasks:
                _run(*self.ctr, "tasks", "delete", line.split()[0], check=False)
            containerd.terminate()
            try:
                containerd.wait(timeout=20)
            except subprocess.TimeoutExpired:
                containerd.kill()
                containerd.wait()
        # Shims started for this containerd's socket only.
        _run("pkill", "-f", f"containerd-shim-runc-v2 .*-address {self.run_dir}/containerd.sock", check=False)
        mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()
                  if line.split()[1].startswith((str(self.root), str(self.run_dir)))]
        for mount in sorted(mounts, reverse=True):
            _run("umount", "-l", mount, check=False)
        for controller in Path("/sys/fs/cgroup").iterdir():
            for top in ("kubepods", "k8s.io"):
                _remove_cgroup(controller / top)
        for name in sorted(pod_netns) + [self.netns]:
            _run("ip", "netns", "delete", name, check=False)
        if os.environ.get("IMQCAM_KEEP_CONTROL_PLANE") != "1":
            shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def leftovers(self) -> list:
        """What of this node is still on the machine after stop(): processes, mounts, namespaces."""
        found = []
        for proc in Path("/proc").glob("[0-9]*"):
            with contextlib.suppress(OSError):
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                if str(self.run_dir) in cmdline or f"{self.root}/" in cmdline:
                    found.append(f"process {proc.name}: {cmdline[:120]}")
        found += [f"mount {line.split()[1]}" for line in Path("/proc/mounts").read_text().splitlines()
                  if line.split()[1].startswith((str(self.root), str(self.run_dir)))]
        if Path(f"/run/netns/{self.netns}").exists():
            found.append(f"network namespace {self.netns}")
        return found


def _remove_cgroup(top: Path) -> None:
    if top.is_dir():
        for folder in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()
        with contextlib.suppress(OSError):
            top.rmdir()


def _refuse_routes_out(netns: str) -> None:
    routes = _run("ip", "-n", netns, "route", "show", "table", "all").stdout
    if any(line.startswith("default") for line in routes.splitlines()):
        raise RuntimeError(f"network namespace {netns} has a default route; refusing to start a node there:\n{routes}")
    links = _run("ip", "-n", netns, "-o", "link", "show").stdout
    unexpected = [line.split(":")[1].strip() for line in links.splitlines() if line.split(":")[1].strip() != "lo"]
    if unexpected:
        raise RuntimeError(f"network namespace {netns} has links besides lo ({unexpected}); refusing to start")


def _checked_prerequisites(bin_dir: Path) -> None:
    missing = [str(bin_dir / b) for b in ("kubelet", "kube-proxy", "coredns", "kube-router") if not (bin_dir / b).is_file()]
    missing += [tool for tool in ("containerd", "ctr", "runc", "ip", "iptables", "ipset", "nsenter") if not shutil.which(tool)]
    missing += [p for p in ("/usr/lib/cni/bridge", "/usr/lib/cni/host-local", "/usr/lib/cni/loopback")
                if not os.path.exists(p)]
    if missing:
        raise RuntimeError("the real node needs " + ", ".join(missing) +
                           " (control-plane/build.sh; apt-get install containerd runc containernetworking-plugins "
                           "iptables ipset conntrack)")


def start(images: Optional[dict] = None, bin_dir: Optional[Path] = None) -> RealNode:
    began = time.monotonic()
    bin_dir = bin_dir or kcp.binaries()
    _checked_prerequisites(bin_dir)
    root = Path(tempfile.mkdtemp(prefix="imqcam-node-"))
    netns = f"imqcam-node-{os.getpid()}"
    run_dir = Path(f"/run/{netns}")
    run_dir.mkdir(parents=True, exist_ok=True)
    wrap = ["nsenter", f"--net=/run/netns/{netns}"]  # the network only: cgroups and mounts stay the host's
    pki = root / "pki"
    node = RealNode(root=root, bin=bin_dir, port=API_PORT, kubeconfig=root / "admin.kubeconfig", wrap=wrap,
                    netns=netns, run_dir=run_dir)
    try:
        _run("ip", "netns", "add", netns)
        _run(*wrap, "ip", "link", "set", "lo", "up")
        _run(*wrap, "ip", "addr", "add", f"{NODE_IP}/32", "dev", "lo")
        _refuse_routes_out(netns)
        _certificates(pki)
        tokens = {who: secrets.token_hex(24) for who in ("admin", "node", "proxy")}
        (root / "tokens.csv").write_text(
            f'{tokens["admin"]},imqcam-admin,imqcam-admin,"system:masters"\n'
            f'{tokens["node"]},system:node:{kcp.NODE_NAME},{kcp.NODE_NAME},"system:nodes"\n'
            f'{tokens["proxy"]},system:kube-proxy,system:kube-proxy\n')
        _kubeconfig(node.kubeconfig, tokens["admin"], pki / "ca.crt")
        _kubeconfig(root / "kubelet.kubeconfig", tokens["node"], pki / "ca.crt")
        _kubeconfig(root / "kube-proxy.kubeconfig", tokens["proxy"], pki / "ca.crt")
        (root / "cni").mkdir()
        # No masquerading: pod traffic leaves the bridge for nowhere, as the namespace has no route out.
        (root / "cni" / "10-imqcam.conflist").write_text(json.dumps({
            "cniVersion": "0.4.0", "name": "imqcam-node", "plugins": [
                {"type": "bridge", "bridge": "cni0", "isGateway": True, "ipMasq": False, "hairpinMode": True,
                 "ipam": {"type": "host-local", "ranges": [[{"subnet": POD_CIDR, "gateway": POD_GATEWAY}]],
                          "routes": [{"dst": "0.0.0.0/0"}], "dataDir": str(run_dir / "cni-ipam")}},
                {"type": "portmap", "capabilities": {"portMappings": True}}]}))
        (root / "containerd.toml").write_text(CONTAINERD_CONFIG.format(root=root, run=run_dir))
        (root / "kubelet.yaml").write_text(KUBELET_CONFIG.format(
            root=root, run=run_dir, pki=pki, node_ip=NODE_IP, dns_ip=DNS_IP))
        (root / "kube-proxy.yaml").write_text(json.dumps({
            "apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration", "mode": "iptables",
            "clientConnection": {"kubeconfig": str(root / "kube-proxy.kubeconfig")},
            "hostnameOverride": kcp.NODE_NAME, "clusterCIDR": "10.244.0.0/16",
            "healthzBindAddress": "127.0.0.1:10256", "metricsBindAddress": "127.0.0.1:10249",
            "conntrack": {"maxPerCore": 0, "min": 0}}))

        node._spawn("containerd", ["containerd", "--config", str(root / "containerd.toml")])
        node.wait_for("containerd", lambda: _run(*node.ctr, "version", check=False).returncode == 0, timeout=60)
        node.import_images(images if images is not None else references())
        node._spawn("etcd", [
            str(bin_dir / "etcd"), "--name", "imqcam-node", "--data-dir", str(root / "etcd"),
            "--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", "http://127.0.0.1:2379",
            "--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
            "--initial-cluster", "imqcam-node=http://127.0.0.1:2380", "--listen-metrics-urls", "http://127.0.0.1:2381",
            "--unsafe-no-fsync", "--log-level", "warn",
        ])
        node._spawn("kube-apiserver", [
            str(bin_dir / "kube-apiserver"), "--etcd-servers=http://127.0.0.1:2379",
            "--bind-address=0.0.0.0", f"--advertise-address={NODE_IP}", f"--secure-port={API_PORT}",
            f"--tls-cert-file={pki / 'apiserver.crt'}", f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}", f"--token-auth-file={root / 'tokens.csv'}",
            f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
            f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
            "--kubelet-preferred-address-types=InternalIP",
            "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki / 'sa.pub'}", f"--service-account-signing-key-file={pki / 'sa.key'}",
            f"--service-cluster-ip-range={kcp.SERVICE_RANGE}", "--allow-privileged=true",
        ])
        node.wait_for("the API server's /readyz",
                      lambda: node.kubectl("get", "--raw", "/readyz", check=False).returncode == 0, timeout=180)
        node._spawn("kube-controller-manager", [
            str(bin_dir / "kube-controller-manager"), f"--kubeconfig={node.kubeconfig}", "--leader-elect=false",
            "--bind-address=127.0.0.1", f"--service-account-private-key-file={pki / 'sa.key'}",
            f"--root-ca-file={pki / 'ca.crt'}", "--use-service-account-credentials=false",
            f"--service-cluster-ip-range={kcp.SERVICE_RANGE}", "--pvclaimbinder-sync-period=1s",
        ])
        node._spawn("kube-scheduler", [
            str(bin_dir / "kube-scheduler"), f"--kubeconfig={node.kubeconfig}", "--leader-elect=false",
            "--bind-address=127.0.0.1",
        ])
        node._spawn("kubelet", [
            str(bin_dir / "kubelet"), f"--config={root / 'kubelet.yaml'}", f"--kubeconfig={root / 'kubelet.kubeconfig'}",
            f"--hostname-override={kcp.NODE_NAME}", f"--node-ip={NODE_IP}", f"--root-dir={root / 'kubelet'}",
        ])
        node._spawn("kube-proxy", [str(bin_dir / "kube-proxy"), f"--config={root / 'kube-proxy.yaml'}"])

        def node_ready() -> bool:
            got = node.kubectl("get", "node", kcp.NODE_NAME, "-o", "json", check=False)
            return got.returncode == 0 and any(
                c["type"] == "Ready" and c["status"] == "True" for c in json.loads(got.stdout)["status"]["conditions"])
        node.wait_for(f"node {kcp.NODE_NAME} Ready", node_ready, timeout=180)
        node.wait_for("the controller manager (ServiceAccount default/default)",
                      lambda: node.kubectl("get", "serviceaccount", "default", "-n", "default", check=False).returncode == 0,
                      timeout=180)
        _start_network_policies(node)
        node.kubectl("apply", "-f", "-", input=COREDNS_OBJECTS)
        node.wait_for("CoreDNS available", lambda: node.kubectl(
            "-n", "kube-system", "wait", "--for=condition=Available", "deploy/coredns", "--timeout=1s",
            check=False).returncode == 0, timeout=180)
        _refuse_routes_out_of_node(node)
    except BaseException:
        node.stop()
        raise
    node.started_seconds = time.monotonic() - began
    return node


def _start_network_policies(node: RealNode) -> None:
    """kube-router's firewall, and nothing else of it, enforcing NetworkPolicy for the node's pods with
    iptables and ipsets in the node's namespace, as a network plugin that enforces them does on a
    cluster. It reads the Node when it starts, so it starts once the kubelet has registered it."""
    node._spawn("kube-router", [
        str(node.bin / "kube-router"), f"--kubeconfig={node.kubeconfig}", f"--hostname-override={kcp.NODE_NAME}",
        "--run-firewall=true", "--run-router=false", "--run-service-proxy=false", "--enable-cni=false",
        f"--service-cluster-ip-range={kcp.SERVICE_RANGE}", "--health-port=20244", "--metrics-port=0",
        "--iptables-sync-period=1m",
    ])
    node.wait_for("kube-router's NetworkPolicy chains", lambda: _run(
        *node.wrap, "iptables", "-n", "-L", "KUBE-ROUTER-FORWARD", check=False).returncode == 0, timeout=120)


def _refuse_routes_out_of_node(node: RealNode) -> None:
    """After the CNI made its bridge: still no default route in the node's namespace."""
    routes = _run(*node.wrap, "ip", "route", "show").stdout
    if any(line.startswith("default") for line in routes.splitlines()):
        raise RuntimeError(f"the node's network namespace gained a default route:\n{routes}")


@contextlib.contextmanager
def running(images: Optional[dict] = None):
    """A real node for the length of a `with` block (a pytest session); fails if stopping it left anything."""
    node = start(images)
    try:
        yield node
    finally:
        node.stop()
    left = node.leftovers()
    if left:
        raise RuntimeError("the node left these behind: " + "; ".join(left))
