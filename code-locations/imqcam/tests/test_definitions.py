import importlib
import pickle
from pathlib import Path

import pytest
from dagster import Definitions, FilesystemIOManager

import imqcam
from imqcam import defs

JOB_NAMES = {"example_job", "pod_per_op_celery_job"}
RUN_CONFIG = {"ops": {"multiply_the_word": {"inputs": {"word": "hello"}, "config": {"factor": 3}}}}


def test_defs_load():
    assert isinstance(defs, Definitions)
    if hasattr(Definitions, "validate_loadable"):
        Definitions.validate_loadable(defs)
    for name in JOB_NAMES:
        job = defs.get_job_def(name)
        assert job.name == name
        assert {node.name for node in job.graph.nodes} == {"multiply_the_word", "count_letters"}
    assert JOB_NAMES <= {job.name for job in defs.resolve_all_job_defs()}


def test_io_manager_defaults_to_tmp_path():
    io_manager = defs.resources["io_manager"]
    assert isinstance(io_manager, FilesystemIOManager)
    assert io_manager.base_dir == "/tmp/imqcam_filesystem_io_data"


def _assert_run_stored_outputs(result, base_dir: Path):
    assert result.success
    assert result.output_for_node("multiply_the_word") == "hellohellohello"
    expected_counts = {"h": 3, "e": 3, "l": 6, "o": 3}
    assert result.output_for_node("count_letters") == expected_counts

    # FilesystemIOManager pickles each op output to <base_dir>/<run_id>/<step_key>/<output_name>.
    run_dir = base_dir / result.run_id
    word_file = run_dir / "multiply_the_word" / "result"
    counts_file = run_dir / "count_letters" / "result"
    assert word_file.is_file(), sorted(str(p) for p in base_dir.rglob("*"))
    assert counts_file.is_file(), sorted(str(p) for p in base_dir.rglob("*"))
    assert pickle.loads(word_file.read_bytes()) == "hellohellohello"
    assert pickle.loads(counts_file.read_bytes()) == expected_counts


def test_example_job_runs_in_process_with_explicit_io_manager(tmp_path):
    from imqcam.jobs import example_job

    result = example_job.execute_in_process(
        run_config=RUN_CONFIG,
        resources={"io_manager": FilesystemIOManager(base_dir=str(tmp_path))},
    )
    _assert_run_stored_outputs(result, tmp_path)


@pytest.fixture
def reloaded_defs_with_io_mount(tmp_path, monkeypatch):
    """imqcam.defs rebuilt with IMQCAM_IO_MOUNT_PATH pointing at tmp_path (as in the cluster)."""
    monkeypatch.setenv("IMQCAM_IO_MOUNT_PATH", str(tmp_path))
    yield importlib.reload(imqcam).defs
    monkeypatch.delenv("IMQCAM_IO_MOUNT_PATH")
    importlib.reload(imqcam)


def test_example_job_uses_io_mount_path_env_var(reloaded_defs_with_io_mount, tmp_path):
    job = reloaded_defs_with_io_mount.get_job_def("example_job")
    result = job.execute_in_process(run_config=RUN_CONFIG)
    _assert_run_stored_outputs(result, tmp_path)


def test_example_job_rejects_missing_factor():
    from dagster import DagsterInvalidConfigError

    from imqcam.jobs import example_job

    with pytest.raises(DagsterInvalidConfigError):
        example_job.execute_in_process(
            run_config={"ops": {"multiply_the_word": {"inputs": {"word": "hi"}}}}
        )
