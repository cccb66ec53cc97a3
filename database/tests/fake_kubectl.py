#!/usr/bin/env python3
"""Stands in for kubectl in the tests of the restore command: accepts only the
`exec -i -n NS POD -c CONTAINER -- sh -c SCRIPT` that history.py's PodRunner builds, and runs
SCRIPT here with that container's environment, from the JSON file FAKE_KUBECTL_PODS
({"NS/POD/CONTAINER": {env}}). Its stdin and stdout are the command's, as with kubectl."""

import json
import os
import sys

args = sys.argv[1:]
shape = ["exec", "-i", "-n", None, None, "-c", None, "--", "sh", "-c", None]
if len(args) != len(shape) or any(want is not None and got != want for want, got in zip(shape, args)):
    sys.exit(f"fake kubectl: unexpected arguments {args}")
namespace, pod, container, script = args[3], args[4], args[6], args[10]
with open(os.environ["FAKE_KUBECTL_PODS"]) as f:
    pods = json.load(f)
env = pods.get(f"{namespace}/{pod}/{container}")
if env is None:
    sys.exit(f'Error from server (NotFound): pods "{pod}" not found')
os.execve("/bin/sh", ["sh", "-c", script], env)
