#!/usr/bin/env bash
# Runs the image scripts/build-image.sh made with podman, as a user of it would: its
# version, then `run --once` over the bundled trainer run mounted read-only (no network,
# as nobody), which must exit 0 and leave a merged adapter in the mounted output.
# Usage: scripts/check-image.sh OCI_ARCHIVE
set -euo pipefail
archive=$(realpath "${1:?usage: check-image.sh OCI_ARCHIVE}")
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"; podman rmi --force "$image" >/dev/null 2>&1 || true' EXIT
# Two limits of these CI machines, not of the image: no CAP_SYS_RESOURCE (so podman's
# default rlimits, above the current hard limits, are refused: ask for less), and a
# hybrid cgroup layout whose cgroup2 mount has a controller (hugetlb), which crun
# refuses: it runs in a private mount namespace with that mount taken away.
run_image() {
    local limits=(--ulimit=nofile=1024:1024 --ulimit=nproc=1024:1024)
    if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
        unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified && exec "$@"' sh \
            podman run --rm "${limits[@]}" --network=none "$@"
    else
        podman run --rm "${limits[@]}" --network=none "$@"
    fi
}

image=$(podman load --quiet --input "$archive" | sed -n 's/^Loaded image[^:]*: //p' | head -1)
[[ -n $image ]] || { echo "podman loaded no image from $archive" >&2; exit 1; }
echo "loaded $image ($(podman image inspect --format '{{.Size}}' "$image") bytes)"
echo "mwad --version in the image: $(run_image "$image" --version)"
install -d -m 777 "$work/out"
run_image -v "$(pwd)/Tests/Fixtures/trainer-run-f32:/data/run:ro" -v "$work/out:/out" \
    "$image" run --watch /data/run --out /out/merged --state-dir /out/state --once 2>&1 | tail -2
test -f "$work/out/merged/adapter_model.safetensors" || { echo "no merged adapter in the output" >&2; exit 1; }
echo "image: run --once merged $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["members"]))' "$work/out/merged/mwa_merge.json") members into /out/merged"
