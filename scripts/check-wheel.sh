#!/usr/bin/env bash
# Installs the wheel with pip into a fresh venv on a root file system that has no Swift,
# no libsqlite3 and no LAPACK — Debian 12 made by debootstrap (minbase + python3-venv,
# then libsqlite3 removed: python3 pulls it in, the wheel must not need it) — and runs
# it there under systemd-nspawn with no network: `mwad --version` (equal to the
# wheel's version), `python -m mwad`, `mwad merge --method svd` on a fixture,
# `mwad run --once` then `mwad.status()` from Python, and `mwad demo`. Prints the time
# from `python3 -m venv` + `pip install` to the first merge. The debootstrap'd tree is
# cached in $MWAD_ROOTFS_CACHE (default /var/cache/mwad-ci/bookworm-python) and used
# through an overlay, so it stays pristine. Needs root.
# Usage: scripts/check-wheel.sh WHEEL
set -euo pipefail
wheel=$(realpath "${1:?usage: check-wheel.sh WHEEL}")
cd "$(dirname "$0")/.."
repo=$(pwd)
cache=${MWAD_ROOTFS_CACHE:-/var/cache/mwad-ci/bookworm-python}
started=$SECONDS

if [[ ! -f $cache/.complete ]]; then
    echo "debootstrap: Debian 12 minbase with python3-venv into $cache"
    rm -rf "$cache"
    mkdir -p "$cache"
    debootstrap --variant=minbase --include=python3-venv bookworm "$cache" http://deb.debian.org/debian >/dev/null
    chroot "$cache" dpkg --purge --force-depends libsqlite3-0 >/dev/null 2>&1
    chroot "$cache" apt-get clean
    touch "$cache/.complete"
fi

work=$(mktemp -d /tmp/mwad-wheel.XXXXXX)
cleanup() {
    umount "$work/root" 2>/dev/null || umount -l "$work/root" 2>/dev/null || true
    umount "$work/layer" 2>/dev/null || true
    rmdir "$work/root" "$work/layer" "$work" 2>/dev/null || echo "left mounted: $work" >&2
}
trap cleanup EXIT
mkdir -p "$work"/{layer,root}
mount -t tmpfs -o mode=755 tmpfs "$work/layer"
mkdir "$work/layer/upper" "$work/layer/work"
mount -t overlay overlay -o "lowerdir=$cache,upperdir=$work/layer/upper,workdir=$work/layer/work" "$work/root"

# What the root file system must lack, checked before the wheel goes in.
missing=$(chroot "$work/root" sh -c 'ls /usr/lib/*/libsqlite3* /usr/lib/*/liblapack* /usr/lib/*/libblas* \
    /usr/lib/*/libopenblas* /usr/lib/*/libgfortran* /usr/lib/*/libswiftCore* 2>/dev/null; command -v swift sqlite3' || true)
if [[ -n $missing ]]; then echo "the root file system is not bare: $missing" >&2; exit 1; fi
# shellcheck disable=SC2016  # expanded by the container's shell
echo "root file system: $(chroot "$work/root" sh -c '. /etc/os-release; echo "$PRETTY_NAME"'), python $(chroot "$work/root" python3 -c 'import platform; print(platform.python_version())'), glibc $(chroot "$work/root" ldd --version | sed -n 1p | awk '{print $NF}'); no Swift, libsqlite3 or LAPACK"

nspawn=(systemd-nspawn --quiet --register=no --keep-unit --private-network -D "$work/root"
        --bind-ro="$(dirname "$wheel"):/mnt/dist" --bind-ro="$repo/Tests/Fixtures:/mnt/fixtures"
        --setenv=WHEEL="/mnt/dist/$(basename "$wheel")" --setenv=HOME=/root --setenv=LC_ALL=C.UTF-8)
# shellcheck disable=SC2016  # the script runs inside the container, its variables there
"${nspawn[@]}" /bin/bash -euo pipefail -c '
t0=$(date +%s.%N)
python3 -m venv /opt/venv
/opt/venv/bin/pip install --quiet --no-index --disable-pip-version-check "$WHEEL"
cp -r /mnt/fixtures/trainer-run-f32 /tmp/run
/opt/venv/bin/mwad run --once --watch /tmp/run --state-dir /tmp/state 2>&1 | tail -1
t1=$(date +%s.%N)
echo "pip install into a fresh venv to the first merge: $(awk -v a="$t0" -v b="$t1" "BEGIN { printf \"%.1f\", b - a }") s"
echo "-- mwad --version: $(/opt/venv/bin/mwad --version); python -m mwad --version: $(/opt/venv/bin/python -m mwad --version)"
wheel_version=$(basename "$WHEEL" | cut -d- -f2)
[[ $(/opt/venv/bin/mwad --version) == "$wheel_version" ]] || { echo "mwad --version is not the wheel version $wheel_version"; exit 1; }
binary=$(/opt/venv/bin/python -c "import mwad; print(mwad.binary_path())")
echo "-- $binary links:"
ldd "$binary" | sed "s/^/   /"
echo "-- mwad merge --method svd:"
/opt/venv/bin/mwad merge /tmp/run --method svd --rank 4 --out /tmp/svd | tail -4
python3 -c "import json; m = json.load(open(\"/tmp/svd/mwa_merge.json\")); assert m[\"settings\"][\"method\"] == \"svd\", m; print(\"   mwa_merge.json: svd, rank\", m[\"report\"][\"rank\"], \"truncation error\", round(m[\"report\"][\"truncation_error\"], 3))"
echo "-- mwad.status() from Python:"
/opt/venv/bin/python -c "import mwad; s = mwad.status(\"/tmp/state\"); print(\"  \", s[\"daemon\"][\"state\"], s[\"counts\"][\"ingested_total\"], \"checkpoints, merge of steps\", [m[\"step\"] for m in s[\"merge\"][\"members\"]])"
echo "-- mwad demo:"
cd /tmp && /opt/venv/bin/mwad demo 2>&1 | tail -3
'
echo "the wheel installs and runs on bare Debian 12 in $((SECONDS - started)) s"
