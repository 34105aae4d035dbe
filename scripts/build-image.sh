#!/usr/bin/env bash
# Builds the OCI image mwad:<version> with buildah, from scratch and without a registry:
# the .deb's own files (dpkg-deb -x, so the image holds exactly what the package
# installs), the shared libraries its binary loads (resolved by ldd on this Debian 12
# machine, copied with their dependencies), and /etc/passwd and /etc/group naming
# nobody. Saved as dist/mwad_<version>.oci.tar (an OCI archive) and printed.
# Usage: scripts/build-image.sh DEB [OUT_DIR]
set -euo pipefail
deb=$(realpath "${1:?usage: build-image.sh DEB [OUT_DIR]}")
cd "$(dirname "$0")/.."
out=$(realpath -m "${2:-dist}")
version=$(dpkg-deb -f "$deb" Version)
work=$(mktemp -d)
container=
cleanup() {
    [[ -z $container ]] || buildah rm "$container" >/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

root=$work/root
dpkg-deb -x "$deb" "$root"
# The dynamic loader and every library the binary needs, at the paths ldd resolves
# (the loader's own path is what the binary names).
ldd "$root/usr/bin/mwad" | awk '$3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u | while read -r library; do
    install -D -m 644 "$(readlink -f "$library")" "$root$library"
done
chmod 755 "$root"/lib64/ld-linux-*.so.* 2>/dev/null || true
install -d -m 1777 "$root/tmp"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"

container=$(buildah from scratch)
buildah copy --quiet "$container" "$root" / >/dev/null
buildah config --entrypoint '["/usr/bin/mwad"]' --cmd '["--help"]' --user 65534:65534 \
    --env LANG=C.UTF-8 --label org.opencontainers.image.title=mwad \
    --label "org.opencontainers.image.version=$version" "$container"
mkdir -p "$out"
archive=$out/mwad_${version}.oci.tar
rm -f "$archive"
buildah commit --quiet --format oci "$container" "oci-archive:$archive:mwad:$version" >/dev/null
echo "$archive"
