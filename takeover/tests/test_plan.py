"""Step 1: the inventory of the manual deployment, the plan, and every reason to stop."""
import json

import pytest

from takeover import inventory, plan, share
from takeover.cluster import Cluster
from takeover.context import Context
from takeover.state import State
from takeover.tests.fake import FakeDB

MUTATING = ("kubectl scale", "kubectl delete", "kubectl create", "kubectl exec", "helm uninstall",
            "pulumi config set", "pulumi up", "history.dump", "history.restore")


def gather(world, tmp_path):
    ctx = Context(stack="kde04", cluster=Cluster(world.run, lambda line: None, world.clock),
                  history=world.history, state=State(tmp_path, "kde04"), out=lambda line: None)
    return inventory.gather(ctx)


def test_plan_for_kde04_names_every_object_and_action(world, tmp_path):
    rows, problems = plan.plan(gather(world, tmp_path))
    assert problems == []
    assert [(r.action, r.kind, r.name) for r in rows] == [
        ("adopt", "Namespace", "imqcam-dagster"),
        ("adopt", "PersistentVolume", "imqcam-dagster-io-data"),
        ("adopt", "PersistentVolumeClaim", "imqcam-dagster-io-data"),
        ("keep", "PersistentVolumeClaim", "data-dagster-postgresql-0"),
        ("replace", "HelmRelease", "dagster"),
        ("replace", "PostgreSQL", "dagster-postgresql-0"),
        ("replace", "RabbitMQ", "dagster-rabbitmq"),
        ("replace", "Secret", "girder-connection-info"),
        ("replace", "Secret", "globus-compute-creds"),
        ("delete later", "Secret", "girder-connection-info"),
        ("delete later", "Secret", "globus-compute-creds"),
        ("delete later", "PersistentVolumeClaim", "data-dagster-postgresql-0"),
        ("delete later", "PersistentVolumeClaim", "data-dagster-rabbitmq-0"),
    ]
    by_name = {(r.action, r.name): r.what for r in rows if r.kind != "PersistentVolume"}
    pv = next(r for r in rows if r.kind == "PersistentVolume")
    assert "sciserver-fs1:/srv/vc_crypt/IMQCAM/dagster_filesystem_io" in pv.what
    assert "its top folder belongs to uid 1000, gid 100 (mode 2775)" in pv.what
    assert "everything on it is writable by the stack's writer (uid 10001, gid 10001)" in pv.what
    assert "dagster-1.7.5" in by_name[("replace", "dagster")] and "1.13.27" in by_name[("replace", "dagster")]
    assert "50 runs" in by_name[("replace", "dagster-postgresql-0")]
    assert "dagster-postgresql-data" in by_name[("replace", "dagster-postgresql-0")]
    assert "envSecrets.girder-connection-info" in by_name[("replace", "girder-connection-info")]


def test_inventory_holds_names_of_secret_keys_but_no_values(world, tmp_path):
    inv = gather(world, tmp_path)
    assert inv["secrets"] == {"girder-connection-info": ["GIRDER_API_KEY", "GIRDER_API_URL"],
                              "globus-compute-creds": ["GLOBUS_COMPUTE_CLIENT_ID", "GLOBUS_COMPUTE_CLIENT_SECRET"]}
    assert inv["old_db_pod"]["container"] == "dagster-postgresql"
    assert inv["io_pod"]["pod"].startswith("dagster-dagster-user-deployments-imqcam-example-1-")
    text = json.dumps(inv)
    for secret in world.secrets.values():
        for encoded in secret["data"].values():
            assert encoded not in text


def _no_release(w):
    w.releases = []


def _other_chart(w):
    w.releases[0]["chart"] = "dagster-1.12.7"


def _failed_release(w):
    w.releases[0]["status"] = "pending-upgrade"


def _run_in_progress(w):
    w.dbs["dagster-postgresql"].runs["0badc0de-0000-4000-8000-000000000001"] = "STARTED"


def _claim_missing(name):
    def f(w):
        del w.pvcs[name]
    return f


def _claim_pending(w):
    w.pvcs["data-dagster-rabbitmq-0"]["status"]["phase"] = "Pending"


def _secret_extra_key(w):
    w.secrets["globus-compute-creds"]["data"]["GLOBUS_COMPUTE_ENDPOINT"] = "ZXAtMQ=="


def _secret_missing_key(w):
    del w.secrets["girder-connection-info"]["data"]["GIRDER_API_URL"]


def _secret_missing(w):
    del w.secrets["girder-connection-info"]


def _pod_not_ready(w):
    pod = w.pods["dagster-postgresql-0"]
    for c in pod["status"]["conditions"]:
        if c["type"] == "Ready":
            c["status"] = "False"
    pod["status"]["containerStatuses"][0]["ready"] = False


def _pod_pending(w):
    w.pods["dagster-postgresql-0"]["status"] = {"phase": "Pending", "conditions": []}


def _pod_missing(w):
    del w.pods["dagster-postgresql-0"]


def _pod_without_env(w):
    env = w.pods["dagster-postgresql-0"]["spec"]["containers"][0]["env"]
    env[:] = [e for e in env if e["name"] != "POSTGRES_DB"]


def _pv_bound_elsewhere(w):
    w.pvs["imqcam-dagster-io-data"]["spec"]["claimRef"]["name"] = "someone-else"


def _pv_released(w):
    w.pvs["imqcam-dagster-io-data"]["status"]["phase"] = "Released"


def _claim_on_other_volume(w):
    w.pvcs["imqcam-dagster-io-data"]["spec"]["volumeName"] = "pvc-4f1e0c2a-dynamic"


def _io_claim_with_class(w):
    w.pvcs["imqcam-dagster-io-data"]["spec"]["storageClassName"] = "standard"


def _pv_missing(w):
    del w.pvs["imqcam-dagster-io-data"]


def _pv_other_share(w):
    w.config["ioVolume"]["nfs"]["path"] = "/srv/other"


def _pv_a_node_folder(w):
    spec = w.pvs["imqcam-dagster-io-data"]["spec"]
    spec["hostPath"] = {"path": "/srv/other", "type": "DirectoryOrCreate"}
    del spec["nfs"]


def _new_claim_exists(w):
    w.pvcs["dagster-postgresql-data"] = {"metadata": {"name": "dagster-postgresql-data", "uid": "x"},
                                         "spec": {}, "status": {"phase": "Bound"}}


def _no_namespace(w):
    w.namespace = None


def _no_io_pod(w):
    for name in [n for n in w.pods if "user-deployments" in n]:
        del w.pods[name]


def _release_with_third_secret(w):
    w.helm_values["dagster-user-deployments"]["deployments"][0]["envSecrets"].append({"name": "s3-creds"})


def _stack_has_other_key(w):
    w.env_secrets = {"girder-connection-info": {"GIRDER_TOKEN": "x"}}


def _no_dagster_schema(w):
    w.dbs["dagster-postgresql"] = FakeDB({}, 0, None)


def _no_docker(w):
    w.docker_running = False


def _not_logged_in(w):
    w.pulumi_logged_in = False


def _stack_pulumi_up_refuses(w):
    w.stack_problems = [{"key": "registryPassword", "problem": "is not set, but registry.username \"openmsi\" needs it",
                         "fix": "pulumi config set --secret registryPassword"}]


def _duplicate_run_tags(w):
    w.dbs["dagster-postgresql"].run_tag_duplicates = 2


def _share_not_writable(w):
    w.share_unwritable = ["/tmp/imqcam_filesystem_io_data/compute_logs", "/tmp/imqcam_filesystem_io_data/a/b",
                          "/tmp/imqcam_filesystem_io_data/a/c", "/tmp/imqcam_filesystem_io_data/a/d"]


STOPS = {
    "duplicate run tags": (_duplicate_run_tags, "The old run history has 2 duplicate run_tags rows"),
    "docker not running": (_no_docker, "docker cannot reach its daemon"),
    "a share the writer may not write": (_share_not_writable, "4 files and folders on the IO share may not be "
                                         "written by uid 10001, gid 10001"),
    "a stack pulumi up would refuse": (_stack_pulumi_up_refuses, "`pulumi up` would stop after the uninstall at "
                                                                  "registryPassword: is not set"),
    "pulumi not logged in": (_not_logged_in, "pulumi is not logged in"),
    "no old release": (_no_release, "No Helm release dagster"),
    "a different chart": (_other_chart, "runs chart dagster-1.12.7, expected dagster-1.7.5"),
    "a release mid-operation": (_failed_release, "is pending-upgrade, not deployed"),
    "runs in progress": (_run_in_progress, "Runs are in progress in the old deployment (STARTED: 1)"),
    "the IO claim missing": (_claim_missing("imqcam-dagster-io-data"), "PersistentVolumeClaim imqcam-dagster-io-data"),
    "the old database claim missing": (_claim_missing("data-dagster-postgresql-0"), "postgresql-0 (the old run"),
    "the old broker claim missing": (_claim_missing("data-dagster-rabbitmq-0"), "rabbitmq-0 (the old broker"),
    "a claim not bound": (_claim_pending, "data-dagster-rabbitmq-0 (the old broker's data) is Pending"),
    "a Secret with other keys": (_secret_extra_key, "has keys GLOBUS_COMPUTE_CLIENT_ID, GLOBUS_COMPUTE_CLIENT_SECRET, "
                                                    "GLOBUS_COMPUTE_ENDPOINT; expected exactly"),
    "a Secret lacking a key": (_secret_missing_key, "Secret girder-connection-info has keys GIRDER_API_KEY;"),
    "a Secret missing": (_secret_missing, "Secret girder-connection-info was not found"),
    "the old pod not ready": (_pod_not_ready, "dagster-postgresql-0 is Running and not ready"),
    "the old pod pending": (_pod_pending, "dagster-postgresql-0 is Pending and not ready"),
    "the old pod missing": (_pod_missing, "The old PostgreSQL pod dagster-postgresql-0 was not found"),
    "the old pod without POSTGRES_DB": (_pod_without_env, "has no environment variable POSTGRES_DB"),
    "the PV bound to another claim": (_pv_bound_elsewhere, "claimRef imqcam-dagster/someone-else"),
    "the PV not bound": (_pv_released, "is Released with claimRef"),
    "the claim on another volume": (_claim_on_other_volume, "bound to volume pvc-4f1e0c2a-dynamic"),
    "the IO claim with a storage class": (_io_claim_with_class, "has storage class standard"),
    "the PV missing": (_pv_missing, "PersistentVolume imqcam-dagster-io-data (the NFS share"),
    "the PV on another share": (_pv_other_share, "the stack's ioVolume is NFS sciserver-fs1:/srv/other"),
    "the PV on a node folder": (_pv_a_node_folder, "points at the node's folder /srv/other, but the stack's ioVolume is "
                                                   "NFS sciserver-fs1:/srv/vc_crypt/IMQCAM/dagster_filesystem_io"),
    "the new database claim already there": (_new_claim_exists, "dagster-postgresql-data already exists"),
    "no namespace": (_no_namespace, "Namespace imqcam-dagster was not found"),
    "no pod mounting the share": (_no_io_pod, "No ready pod mounts claim imqcam-dagster-io-data"),
    "a third envSecret in the release": (_release_with_third_secret, "attaches envSecrets s3-creds"),
    "stack config with a foreign key": (_stack_has_other_key, "girder-connection-info has keys GIRDER_TOKEN"),
    "a database without Dagster's schema": (_no_dagster_schema, "has no Dagster schema"),
}


@pytest.mark.parametrize("case", list(STOPS))
def test_each_stop_condition_is_a_problem_of_the_plan(world, tmp_path, case):
    change, message = STOPS[case]
    change(world)
    _, problems = plan.plan(gather(world, tmp_path))
    assert any(message in p for p in problems), problems


def test_a_node_folder_the_stack_names_is_adopted_like_the_nfs_share(world, tmp_path):
    """The program's other IO volume form (ioVolume.hostPath), as the rehearsal on the real node has it."""
    _pv_a_node_folder(world)
    world.config["ioVolume"] = {"hostPath": {"path": "/srv/other"}, "size": "5Gi"}
    rows, problems = plan.plan(gather(world, tmp_path))
    assert problems == []
    assert any(r.name == "imqcam-dagster-io-data" and r.kind == "PersistentVolume"
               and "the node's folder /srv/other" in r.what for r in rows), rows


@pytest.mark.parametrize("case", list(STOPS))
def test_each_stop_condition_exits_2_and_changes_nothing(world, session, case):
    change, message = STOPS[case]
    change(world)
    assert session.run("--yes") == 2
    assert message in session.text()
    assert "this run changed nothing" in session.text()
    # The inventory's execs only read the share (its owner, what its writer may not write).
    assert not [c.line for c in world.log if c.line.startswith(MUTATING) and not set(share.READS) & set(c.argv)]
    assert world.effects == []
    assert not session.state_path.exists()


def test_docker_is_needed_only_where_pulumi_up_builds_an_image(world, tmp_path):
    world.docker_running = False
    world.builds_images = False  # every code location pinned by digest: nothing to build
    _, problems = plan.plan(gather(world, tmp_path))
    assert problems == []
    assert not world.calls("docker")


def test_a_share_the_writer_may_not_write_stops_with_commands_that_fix_it(world, tmp_path):
    """The first paths and how many, the chown to paste (from the old pod, which writes as root), and,
    where the share's owner is not root, the writer settings that keep it; nothing else stops."""
    _share_not_writable(world)
    rows, problems = plan.plan(gather(world, tmp_path))
    assert len(problems) == 1, problems
    p = problems[0]
    assert "e.g. /tmp/imqcam_filesystem_io_data/compute_logs, /tmp/imqcam_filesystem_io_data/a/b, " \
           "/tmp/imqcam_filesystem_io_data/a/c. Runs" in p, p
    pod = next(n for n in world.pods if n.startswith("dagster-dagster-user-deployments-imqcam-example-1-"))
    container = world.pods[pod]["spec"]["containers"][0]["name"]
    assert (f"`kubectl exec -n imqcam-dagster {pod} -c {container} -- chown -R 10001:10001 "
            f"/tmp/imqcam_filesystem_io_data`") in p, p
    assert ("`pulumi config set --path 'ioVolume.writer.uid' 1000 --stack kde04 && "
            "pulumi config set --path 'ioVolume.writer.gid' 100 --stack kde04`") in p, p
    pv = next(r for r in rows if r.kind == "PersistentVolume")
    assert "4 files and folders on it are not writable by the stack's writer (uid 10001, gid 10001)" in pv.what

    # A root-owned share: only the chown keeps every pod off root.
    world.share_owner = "0:0 755"
    _, problems = plan.plan(gather(world, tmp_path))
    assert "chown -R 10001:10001" in problems[0] and "ioVolume.writer.uid" not in problems[0].split("Give them")[1]


def test_the_share_check_asks_for_the_stacks_writer_and_is_skipped_without_one(world, tmp_path):
    world.share_writer = {"uid": 4321, "gid": 99}
    _share_not_writable(world)
    _, problems = plan.plan(gather(world, tmp_path))
    assert any("may not be written by uid 4321, gid 99" in p for p in problems), problems
    # Settings the program refuses: no writer; that refusal is the plan's problem, not this check.
    world.share_writer = None
    inv = gather(world, tmp_path)
    assert inv["share_unwritable"] is None
    rows, _ = plan.plan(inv)
    assert "was not checked" in next(r for r in rows if r.kind == "PersistentVolume").what
