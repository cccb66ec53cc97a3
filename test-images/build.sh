#!/usr/bin/env bash
# Builds every image the real-node tests run, with buildah (Debian's), never pulling: each stands in
# for an image the program or the Dagster chart names, and is committed under that exact
# reference (README, "Stand-in images"). Root filesystems come from Debian's packages (debootstrap),
# Python packages from PyPI; the user-code image is built from the project's own Dockerfile and
# lock. Each image is exported as an OCI archive that the node imports with `ctr images import`.
#
# usage: test-images/build.sh CONTROL_PLANE_BIN DAGSTER_VERSION
# Prints the folder holding the archives and references.json ({name: {reference, digest, archive}}).
# Cached outside the repository (IMQCAM_NODE_IMAGES_CACHE, default ~/.cache/imqcam-dagster/node-images):
# an image is rebuilt only when its recipe, the lock or a version changes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo_root="$(dirname "$here")"
bin="$1"
dagster_version="$2"
source "$repo_root/control-plane/versions.env"
minor="$(cut -d. -f2 <<<"$dagster_version")"
library_version="0.$((minor + 16)).$(cut -d. -f3 <<<"$dagster_version")"
code_location="$repo_root/code-locations/imqcam"

cache="${IMQCAM_NODE_IMAGES_CACHE:-$HOME/.cache/imqcam-dagster/node-images}"
out="$cache/archives"
debs="$cache/debs"
mkdir -p "$out" "$debs"
B=(buildah --root "$cache/buildah/root" --runroot "$cache/buildah/run" --storage-driver overlay)

# The references the program and the chart name (src/components/parts/images.ts; the code location's is the
# kde04 stack's own repository, pinned by digest by the tests).
python_ref="docker.io/library/python:3.11.13-slim-bookworm"
dagster_ref="docker.io/dagster/dagster-celery-k8s:$dagster_version"
user_code_ref="docker.io/openmsi/testing_k8s_dagster:dagster-$dagster_version"
program_images="$(cd "$repo_root" && node_modules/.bin/ts-node --transpile-only -e \
  'const i = require("./src/components/parts/images"); console.log([i.BUSYBOX_IMAGE, i.CHART_WAIT_IMAGE, i.POSTGRESQL_SERVER, i.RABBITMQ].join("\n"))')"

# key_of INPUT...: the hash of a recipe's inputs: files by content, folders by their files' paths
# and contents, anything else as words; the same in any clone of the repository.
key_of() {
  local k
  k="$( { for i in "$@"; do if [[ -f "$i" ]]; then sha256sum <"$i"; elif [[ -d "$i" ]]; then
    (cd "$i" && find . -type f ! -name '*.pyc' -print0 | sort -z | xargs -0 sha256sum); else echo "$i"; fi; done; } |
    sha256sum | cut -c1-16)"
  echo "$k"
}
current() { [[ -s "$out/$1.tar" && "$(cat "$out/$1.key" 2>/dev/null)" == "$2" ]]; }

# export_image NAME REF KEY: the committed REF as an OCI archive the node imports.
export_image() {
  rm -f "$out/$1.tar"
  "${B[@]}" push --quiet "$2" "oci-archive:$out/.$1.partial:$2" >/dev/null
  mv "$out/.$1.partial" "$out/$1.tar"
  echo "$3" >"$out/$1.key"
  echo "built $1 ($2)" >&2
}

# from_rootfs NAME REF FOLDER KEY: an image whose root filesystem FOLDER/rootfs.sh makes (Debian's
# packages), configured from FOLDER/config.json.
from_rootfs() {
  local name="$1" ref="$2" folder="$3" key="$4" c mnt
  c="$("${B[@]}" from scratch)"
  mnt="$("${B[@]}" mount "$c")"
  if ! nice -n 10 "$folder/rootfs.sh" "$mnt" "$debs"; then "${B[@]}" rm "$c" >/dev/null; return 1; fi
  configure "$c" "$folder/config.json"
  "${B[@]}" commit --quiet --rm "$c" "$ref" >/dev/null
  export_image "$name" "$ref" "$key"
}

# configure CONTAINER CONFIG_JSON: entrypoint, cmd, env, workdir, user and stop signal as the official image has them.
configure() {
  local args
  mapfile -t args < <(python3 - "$2" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
print("--entrypoint"); print(json.dumps(c.get("entrypoint") or []))
print("--cmd"); print(json.dumps(c.get("cmd") or []))
print("--workingdir"); print(c.get("workdir", "/"))
for e in c.get("env", []):
    print("--env"); print(e)
if c.get("user"):
    print("--user"); print(c["user"])
if c.get("stopsignal"):
    print("--stop-signal"); print(c["stopsignal"])
PY
  )
  "${B[@]}" config "${args[@]}" "$1"
}

# from_files NAME REF KEY ENTRYPOINT_JSON: an image of a few files copied from this machine
# ($files: "source:destination" pairs).
from_files() {
  local name="$1" ref="$2" key="$3" entrypoint="$4" c mnt pair
  c="$("${B[@]}" from scratch)"
  mnt="$("${B[@]}" mount "$c")"
  mkdir -p "$mnt/tmp" "$mnt/etc" && chmod 1777 "$mnt/tmp"
  for pair in "${files[@]}"; do install -D -m 755 "${pair%%:*}" "$mnt/${pair#*:}"; done
  "${B[@]}" config --entrypoint "$entrypoint" --cmd '[]' "$c"
  "${B[@]}" commit --quiet --rm "$c" "$ref" >/dev/null
  export_image "$name" "$ref" "$key"
}

# pause: Kubernetes' own pause.c from its module (fetched by control-plane/build.sh), static.
pause_c="$(go env GOMODCACHE)/k8s.io/kubernetes@$KUBERNETES_VERSION/build/pause/linux/pause.c"
k="$(key_of "$pause_c")"
if ! current pause "$k"; then
  tmp="$(mktemp -d)"; gcc -Os -static -DVERSION=local -o "$tmp/pause" "$pause_c"
  files=("$tmp/pause:pause"); from_files pause registry.k8s.io/pause:local "$k" '["/pause"]'; rm -rf "$tmp"
fi

k="$(key_of "$bin/coredns")"
if ! current coredns "$k"; then
  files=("$bin/coredns:coredns"); from_files coredns registry.k8s.io/coredns/coredns:local "$k" '["/coredns"]'
fi

# busybox: Debian's busybox-static (1.35) unpacked, for any busybox reference.
busybox_rootfs() { # busybox_rootfs DIR
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && apt-get download busybox-static >/dev/null && dpkg -x busybox-static_*.deb deb)
  mkdir -p "$1"/{bin,etc,tmp,root} && chmod 1777 "$1/tmp"
  cp "$tmp/deb/bin/busybox" "$1/bin/busybox"
  for applet in $("$1/bin/busybox" --list); do [[ -e "$1/bin/$applet" ]] || ln -s busybox "$1/bin/$applet"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$1/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$1/etc/group"
  rm -rf "$tmp"
}

# Each image the program names, built from the recipe that stands in for its repository; an image
# with no stand-in stops the build (a new image needs a recipe and a row in README's table).
# name_of REF: the archive's name, from the reference's last part ("postgres:17.6" -> postgres-17-6).
name_of() { tr -c 'a-z0-9\n' '-' <<<"${1##*/}"; }
for ref in $program_images; do
  repository="${ref%:*}"
  name="$(name_of "$ref")"
  case "${repository##*/}" in
    busybox)
      k="$(key_of "$ref" "$(apt-cache policy busybox-static | sed -n 's/ *Candidate: //p')")"
      if ! current "$name" "$k"; then
        c="$("${B[@]}" from scratch)"; busybox_rootfs "$("${B[@]}" mount "$c")"
        "${B[@]}" config --entrypoint '[]' --cmd '["sh"]' "$c"
        "${B[@]}" commit --quiet --rm "$c" "$ref" >/dev/null
        export_image "$name" "$ref" "$k"
      fi ;;
    glibc-dns-testing) recipe=dnsutils ;;&
    postgres) recipe=postgresql ;;&
    rabbitmq) recipe=rabbitmq ;;&
    glibc-dns-testing | postgres | rabbitmq)
      k="$(key_of "$here/$recipe" "$here/debian.sh" "$ref")"
      current "$name" "$k" || from_rootfs "$name" "$ref" "$here/$recipe" "$k" ;;
    *) echo "error: no stand-in image for $ref (test-images/build.sh, README's stand-in table)" >&2; exit 1 ;;
  esac
done
# The Python base is only ever a FROM: kept in buildah's storage, never exported to the node.
python_key="$(key_of "$here/python" "$python_ref")"
if [[ "$(cat "$out/python.key" 2>/dev/null)" != "$python_key" ]] || ! "${B[@]}" inspect "$python_ref" >/dev/null 2>&1; then
  c="$("${B[@]}" from scratch)"
  nice -n 10 "$here/python/rootfs.sh" "$("${B[@]}" mount "$c")" "$debs"
  configure "$c" "$here/python/config.json"
  "${B[@]}" commit --quiet --rm "$c" "$python_ref" >/dev/null
  echo "$python_key" >"$out/python.key"
  echo "built python ($python_ref)" >&2
fi

# The Dagster image's stand-in, and the user-code image from the project's Dockerfile, both FROM
# the Python base: built with `buildah bud` (Dockerfile semantics), never pulling.
# The RUN steps reach PyPI through this machine's network and trust what it trusts (its CA bundle,
# mounted for the build only: the images keep Debian's own).
ca_bundle=/etc/ssl/certs/ca-certificates.crt
bud() { # bud NAME REF KEY CONTEXT [buildah bud args]
  local name="$1" ref="$2" key="$3" context="$4"; shift 4
  nice -n 10 "${B[@]}" bud --quiet --pull-never --isolation chroot --network host --layers \
    ${ca_bundle:+--volume "$ca_bundle:$ca_bundle:ro"} --platform linux/amd64 "$@" -t "$ref" "$context" >/dev/null
  export_image "$name" "$ref" "$key"
}
k="$(key_of "$python_key" "$here/dagster-celery-k8s" "$code_location/requirements.lock" "$dagster_version")"
if ! current dagster "$k"; then
  tmp="$(mktemp -d)"; cp "$here/dagster-celery-k8s/Dockerfile" "$tmp/"
  # The lock's versions without hashes: constraints for the packages both images share.
  sed -nE 's/^([A-Za-z0-9_.-]+==[^ ;]+).*/\1/p' "$code_location/requirements.lock" >"$tmp/constraints.txt"
  bud dagster "$dagster_ref" "$k" "$tmp" --build-arg "DAGSTER_VERSION=$dagster_version" \
    --build-arg "LIBRARY_VERSION=$library_version"
  rm -rf "$tmp"
fi
k="$(key_of "$python_key" "$code_location/Dockerfile" "$code_location/requirements.lock" \
  "$code_location/imqcam" "$code_location/.dockerignore" "$dagster_version")"
current user-code "$k" || bud user-code "$user_code_ref" "$k" "$code_location" --build-arg "DAGSTER_VERSION=$dagster_version"

# The manual deployment's images (the takeover rehearsal, tests/node/rehearsal), as its recorded pods
# name them (takeover/tests/fixtures/pods.json): its Dagster 1.7.5 image and code location built
# from a lock of that day; its PostgreSQL, RabbitMQ and init-container images are the stand-ins
# above under the old names (README's stand-in table says what differs).
manual="$here/manual-deployment"
manual_images="$(python3 -c '
import json, sys
pods = json.load(open(sys.argv[1]))["items"]
print("\n".join(sorted({c["image"] for p in pods for c in p["spec"].get("initContainers", []) + p["spec"]["containers"]})))
' "$repo_root/takeover/tests/fixtures/pods.json")"
# retag NAME SOURCE_REF REF KEY: an image already built here, exported under another reference.
retag() {
  "${B[@]}" tag "$2" "$3"
  export_image "$1" "$3" "$4"
}
for ref in $manual_images; do
  repository="${ref%:*}"
  name="manual-$(name_of "$ref")"
  case "${repository##*/}" in
    minideb) source_name=glibc-dns-testing ;;&
    postgres) source_name=postgres ;;&
    rabbitmq) source_name=rabbitmq ;;&
    minideb | postgres | rabbitmq)
      source_ref="$(printf '%s\n' $program_images | grep -m1 "/$source_name:")"
      k="$(key_of "$(cat "$out/$(name_of "$source_ref").key")" "$ref")"
      current "$name" "$k" || retag "$name" "$source_ref" "$ref" "$k" ;;
    dagster-celery-k8s)
      k="$(key_of "$python_key" "$manual/Dockerfile" "$manual/dagster-celery-k8s-1.7.5.lock" "$ref")"
      current "$name" "$k" || bud "$name" "$ref" "$k" "$manual" ;;
    testing_k8s_dagster)
      old_dagster="$(grep -m1 '/dagster-celery-k8s:' <<<"$manual_images")"
      k="$(key_of "$(cat "$out/manual-$(name_of "$old_dagster").key")" "$manual/user-code" "$ref")"
      current "$name" "$k" || bud "$name" "$ref" "$k" "$manual/user-code" ;;
    *) echo "error: no stand-in image for the manual deployment's $ref (test-images/build.sh)" >&2; exit 1 ;;
  esac
done

# What the node imports and under which names; the user code also by its digest, as the program
# deploys it (the kubelet looks the image up by that reference).
python3 - "$out" <<'PY'
import json, sys, tarfile
from pathlib import Path
out = Path(sys.argv[1])
found = {}
for archive in sorted(out.glob("*.tar")):
    with tarfile.open(archive) as t:
        index = json.load(t.extractfile("index.json"))
    manifest = index["manifests"][0]
    found[archive.stem] = {"reference": manifest["annotations"]["org.opencontainers.image.ref.name"],
                           "digest": manifest["digest"], "archive": str(archive)}
(out / "references.json").write_text(json.dumps(found, indent=1))
PY
echo "$out"
