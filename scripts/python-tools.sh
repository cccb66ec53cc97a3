# Shared by the lock and test scripts (sourced, not run): the code location's folder, the
# Python minor version its image runs (read from the Dockerfile's FROM line, the one place it
# is written), that interpreter on this machine, and virtualenvs built from hashed locks.
code_location="$repo_root/code-locations/imqcam"

# "FROM python:3.11.13-slim-bookworm" -> 3.11.13 and 3.11
image_python_version="$(sed -nE 's/^FROM python:([0-9]+\.[0-9]+\.[0-9]+)-.*/\1/p' "$code_location/Dockerfile")"
if [[ -z "$image_python_version" ]]; then
  echo "error: no 'FROM python:X.Y.Z-...' line in $code_location/Dockerfile" >&2
  exit 2
fi
image_python_minor="${image_python_version%.*}"

# The interpreter the tests and the resolver use: the image's minor version, nothing else, so the
# same lock installs the same wheels here and in the image.
find_image_python() {
  local candidate
  for candidate in "python$image_python_minor" python3; do
    if command -v "$candidate" >/dev/null &&
      [[ "$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" == "$image_python_minor" ]]; then
      command -v "$candidate"
      return 0
    fi
  done
  echo "error: the code location's image runs Python $image_python_minor (Dockerfile), and no python$image_python_minor is on PATH; install it (e.g. apt-get install python$image_python_minor python$image_python_minor-venv)" >&2
  return 1
}

# use_image_python : sets $python (find_image_python's) and $python_version, which the next ones use.
use_image_python() {
  python="$(find_image_python)" || return 1
  python_version="$("$python" -c 'import sys; print(sys.version.split()[0])')"
}

# The next three use $python and $python_version (use_image_python's) and $repo_root.
# install_locks <dir> <lock>... : a new virtualenv in dir holding exactly the locked packages.
install_locks() {
  local dir="$1" lock
  shift
  "$python" -m venv "$dir" || return 1
  for lock in "$@"; do
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
      --require-hashes --no-deps -r "$lock" || return 1
  done
  "$dir/bin/python" -m pip check
}

# ensure_venv <prefix> <lock>... : prints the path of .cache/<prefix><digest>, building it if needed.
# Built where it stays (a virtualenv's console scripts name its interpreter by absolute path, so a
# moved one cannot run them); `.complete` is written last, and a folder without it is rebuilt.
ensure_venv() {
  local prefix="$1"
  shift
  local digest venv start_seconds old
  mkdir -p "$repo_root/.cache"
  digest="$( (echo "$python_version"; cat "$@") | sha256sum | cut -c1-16)"
  venv="$repo_root/.cache/$prefix$digest"
  if [[ -f "$venv/.complete" ]]; then
    echo "Reusing virtualenv $venv" >&2
  else
    rm -rf "$venv"
    echo "Creating virtualenv $prefix$digest with Python $python_version (a minute or so)..." >&2
    start_seconds=$SECONDS
    if ! install_locks "$venv" "$@" >&2; then
      rm -rf "$venv"
      echo "error: could not install $*" >&2
      return 1
    fi
    touch "$venv/.complete"
    # Only now remove the environments of earlier locks.
    for old in "$repo_root/.cache/$prefix"*; do
      [[ "$old" == "$venv" ]] || rm -rf "$old"
    done
    echo "Virtualenv ready in $((SECONDS - start_seconds))s: $venv" >&2
  fi
  echo "$venv"
}

# tests_venv : prints the path of the tests' one Python environment (the code location's lock and
# requirements-test.lock: its Dagster, pytest and the tests' libraries), building it if needed.
tests_venv() {
  ensure_venv code-location-venv- "$code_location/requirements.lock" "$code_location/requirements-test.lock"
}
