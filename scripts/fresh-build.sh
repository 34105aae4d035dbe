#!/usr/bin/env bash
# Builds mwad and its tests as a fresh machine would: in a private mount namespace with
# every LAPACK/BLAS header and pkg-config file this machine may hold (from earlier work)
# hidden under an empty file, so that a build needing them fails here as it would there.
# The README says a fresh machine needs only Swift and libsqlite3-dev; this proves it.
# Needs root (unshare -m), as CI runs. Arguments go to `swift build`.
set -euo pipefail
cd "$(dirname "$0")/.."

hide=()
for pattern in '/usr/include/lapack*.h' '/usr/include/cblas*.h' '/usr/include/*/lapack*.h' '/usr/include/*/cblas*.h' \
    '/usr/include/*/openblas*/*.h' '/usr/lib/*/pkgconfig/lapack*.pc' '/usr/lib/*/pkgconfig/*blas*.pc' \
    '/usr/share/pkgconfig/lapack*.pc' '/usr/share/pkgconfig/*blas*.pc'; do
    for file in $pattern; do [[ -e $file ]] && hide+=("$file"); done
done
echo "fresh-build: hiding ${#hide[@]} LAPACK/BLAS header and pkg-config files" >&2
# shellcheck disable=SC2016  # expanded by the inner shell
exec unshare -m --propagation private bash -c '
    set -euo pipefail
    n=$1; shift
    for file in "${@:1:$n}"; do mount --bind /dev/null "$file"; done
    shift "$n"
    exec swift build "$@"' fresh-build "${#hide[@]}" "${hide[@]}" "$@"
