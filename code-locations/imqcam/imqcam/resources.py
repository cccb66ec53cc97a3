"""Resources shared by the imqcam jobs."""

import os

from dagster import FilesystemIOManager

IO_MOUNT_PATH_ENV_VAR = "IMQCAM_IO_MOUNT_PATH"
DEFAULT_IO_MOUNT_PATH = "/tmp/imqcam_filesystem_io_data"


def io_base_dir() -> str:
    # With pod-per-op execution every step runs in its own pod, so outputs must go to a volume
    # shared by all pods; the deployment mounts it and points IMQCAM_IO_MOUNT_PATH at it.
    return os.environ.get(IO_MOUNT_PATH_ENV_VAR) or DEFAULT_IO_MOUNT_PATH


def build_resources() -> dict:
    return {"io_manager": FilesystemIOManager(base_dir=io_base_dir())}
