"""The command layer with real processes (sh, cat), no cluster; the share scripts in a real shell."""
import hashlib
import os
from pathlib import Path

import pytest

from takeover.backup import DISCARD, FINISH, UPLOAD
from takeover.cluster import Cluster, CommandError, subprocess_runner
from takeover.share import UNWRITABLE
from takeover.tests.fake import Clock


def cluster(tmp_path, lines=None):
    return Cluster(subprocess_runner(tmp_path), (lines if lines is not None else []).append, Clock())


def test_stdout_is_returned_and_a_file_streams_on_stdin(tmp_path):
    f = tmp_path / "dump"
    f.write_bytes(b"\x00PGDMP binary\n")
    assert cluster(tmp_path).run(["cat"], stdin=f, quiet=True) == b"\x00PGDMP binary\n"
    assert cluster(tmp_path).run(["cat"], stdin=b"value\n", quiet=True) == b"value\n"
    assert cluster(tmp_path).run(["cat"], quiet=True) == b""  # no stdin: never waits on the terminal


def test_a_failure_names_the_command_and_its_stderr(tmp_path):
    with pytest.raises(CommandError) as e:
        cluster(tmp_path).run(["sh", "-c", "echo 'Error from server (Forbidden)' >&2; exit 3"], quiet=True)
    assert e.value.returncode == 3 and "Forbidden" in str(e.value) and "sh -c" in str(e.value)


def test_a_missing_tool_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="helm-that-is-not-there is not installed or not on PATH"):
        cluster(tmp_path).run(["helm-that-is-not-there", "list"], quiet=True)


def test_env_is_added_and_node_modules_bin_is_on_path(tmp_path):
    out = cluster(tmp_path).run(["sh", "-c", 'echo "$IMQCAM_TAKE_OVER $PATH"'], env={"IMQCAM_TAKE_OVER": "1"},
                                quiet=True).decode()
    assert out.startswith("1 " + str(tmp_path / "node_modules" / ".bin"))


def test_printed_commands_show_env_and_stdin_note_but_not_stdin(tmp_path):
    lines = []
    cluster(tmp_path, lines).run(["cat"], stdin=b"s3cr3t\n", env={"A": "1"}, stdin_note="value on stdin")
    assert lines == ["  $ A=1 cat  (value on stdin)"]


def test_get_returns_none_for_a_missing_object(tmp_path):
    c = Cluster(lambda argv, stdin, env, stream: b"", [].append, Clock())
    assert c.get("pv", "x") is None


def test_a_stack_without_a_setting_reads_as_none(tmp_path):
    def runner(argv, stdin, env, stream):
        raise CommandError(argv, 2, "stack kde04 has no setting envSecrets")
    assert Cluster(runner, [].append, Clock()).stack_setting("kde04", "envSecrets") is None

    def broken(argv, stdin, env, stream):
        raise CommandError(argv, 1, "Cannot find module 'js-yaml'")
    with pytest.raises(CommandError):
        Cluster(broken, [].append, Clock()).stack_setting("kde04", "envSecrets")


def test_wait_for_times_out_with_what_it_waited_for():
    clock = Clock()
    c = Cluster(lambda *a: b"", [].append, clock)
    with pytest.raises(TimeoutError, match="timed out after 30 s waiting for the pods"):
        c.wait_for("the pods", lambda: False, timeout=30, interval=5)


def _mount_point() -> str:
    with open("/proc/mounts") as f:
        return next(line.split()[1] for line in f if line.split()[1] != "/")


@pytest.mark.skipif(not Path("/proc/mounts").exists(), reason="needs Linux's /proc/mounts")
def test_the_share_scripts_in_a_real_shell(tmp_path):
    c = cluster(tmp_path)
    data = b"PGDMP" + bytes(range(256)) * 100
    folder = tmp_path / "backups" / "takeover"
    sha = hashlib.sha256(data).hexdigest()
    uploaded = c.run(["sh", "-c", UPLOAD, "sh", _mount_point(), str(folder), "h.dump"], stdin=data, quiet=True)
    assert uploaded.decode().strip() == sha and (folder / "h.dump.partial").read_bytes() == data
    before = tmp_path.stat()
    finished = c.run(["sh", "-c", FINISH, "sh", str(folder), "h.dump", "4321", "4322", str(tmp_path)], quiet=True)
    assert finished.decode().strip() == sha and sorted(p.name for p in folder.iterdir()) == ["h.dump"]
    # As root (the old pods), the dump and the folders made for it go to the stack's writer, the
    # share's top folder stays as it was; as anyone else nothing is given away.
    owners = {p: (p.stat().st_uid, p.stat().st_gid) for p in (folder / "h.dump", folder, folder.parent)}
    want = (4321, 4322) if os.geteuid() == 0 else (os.geteuid(), os.getegid())
    assert owners == {p: want for p in owners}, owners
    assert (tmp_path.stat().st_uid, tmp_path.stat().st_gid) == (before.st_uid, before.st_gid)
    with pytest.raises(CommandError, match="is not a mounted volume in this pod") as e:
        c.run(["sh", "-c", UPLOAD, "sh", str(tmp_path), str(folder), "other.dump"], stdin=data, quiet=True)
    assert e.value.returncode == 3 and not (folder / "other.dump.partial").exists()
    c.run(["sh", "-c", UPLOAD, "sh", _mount_point(), str(folder), "cut.dump"], stdin=data[:10], quiet=True)
    c.run(["sh", "-c", DISCARD, "sh", str(folder), "cut.dump"], quiet=True)
    assert sorted(p.name for p in folder.iterdir()) == ["h.dump"]


def test_what_the_writer_may_not_write_in_a_real_shell(tmp_path):
    """share.UNWRITABLE with GNU find: owner, group and others' write bits, files and folders alike."""
    if os.geteuid() != 0:
        pytest.skip("needs root, to give files to other users (the test machines run as root)")
    share = tmp_path / "share"
    folders = {"": (4321, 4322, 0o755), "group": (1, 4322, 0o2775), "others": (1, 1, 0o777), "root": (0, 0, 0o755)}
    files = {"mine": (4321, 1, 0o644), "group/read-only": (1, 4322, 0o644), "root/log": (0, 0, 0o644),
             "root/open": (0, 0, 0o666), "not-mine": (4321, 1, 0o444)}
    for rel in folders:
        (share / rel).mkdir(exist_ok=True)
    for rel in files:
        (share / rel).write_text("x")
    for rel, (uid, gid, mode) in {**files, **folders}.items():
        os.chown(share / rel, uid, gid)
        os.chmod(share / rel, mode)
    denied = {str(share / rel) for rel in ("group/read-only", "root", "root/log", "not-mine")}
    lines = cluster(tmp_path).run(["sh", "-c", UNWRITABLE, "sh", str(share), "4321", "4322"], quiet=True).decode().splitlines()
    # The first three it found, then how many.
    assert len(lines) == 4 and lines[-1] == "4" and set(lines[:-1]) < denied, lines
    for path in denied:
        os.chmod(path, 0o777)
    assert cluster(tmp_path).run(["sh", "-c", UNWRITABLE, "sh", str(share), "4321", "4322"], quiet=True) == b""
