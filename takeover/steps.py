"""Steps 2 to 9 in their order, each a function of the context (state + cluster), safe to run again.

A step returns "done", or "pending" when it deliberately left something for later (the old
objects without --delete-old). Whatever a step needs to resume (replicas, the Job's name, the
backup's paths) is written to the state file before the change that needs it.
"""
from __future__ import annotations

from .new_release import deploy, old_objects, quiesce, restore, scale_up
from .old_release import backup, copy_secrets, uninstall

STEPS = [
    ("backup", backup),
    ("secrets", copy_secrets),
    ("uninstall", uninstall),
    ("deploy", deploy),
    ("quiesce", quiesce),
    ("restore", restore),
    ("scale-up", scale_up),
    ("old-objects", old_objects),
]
