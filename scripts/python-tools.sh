# Shared by the lock and test scripts (sourced, not run): the code location's folder, the
# Python minor version its image runs (read from the Dockerfile's FROM line, the one place it
# is written), and that interpreter on this machine.
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
