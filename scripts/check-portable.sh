#!/usr/bin/env bash
# Builds mwad as the README installs it (release, Swift's standard library linked in
# statically) and runs it where the Swift toolchain cannot be found: in a private
# mount namespace with an empty folder mounted over the toolchain's runtime libraries.
# A binary linked against them must fail there (checked first, so the hiding is real);
# the installed one must print its version. Needs root (unshare -m), as CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/release-build.sh
release_build
binary=$release_binary
runtime=$(dirname "$(readlink -f "$(command -v swift)")")/../lib/swift/linux
runtime=$(readlink -f "$runtime")
[[ -f $runtime/libswiftCore.so ]] || { echo "no libswiftCore.so in $runtime" >&2; exit 1; }

if grep -q 'libswift\|libFoundation\|libdispatch' <<<"$(ldd "$binary")"; then
    echo "$binary still links Swift runtime libraries:" >&2
    ldd "$binary" >&2
    exit 1
fi

hidden() { unshare -m --propagation private sh -c "mount -t tmpfs none '$runtime' && exec \"\$@\"" sh "$@"; }

# The debug build links the toolchain's libraries dynamically: it must fail here.
if hidden .build/debug/mwad --version >/dev/null 2>&1; then
    echo "hiding $runtime did not hide the Swift runtime" >&2
    exit 1
fi
version=$(hidden "$binary" --version)
echo "portable: $binary runs without $runtime and prints version $version"
