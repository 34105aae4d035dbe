#!/usr/bin/env bash
# Builds dist/mwad_<version>_<arch>.deb from a stripped release build with Swift's
# standard library linked in: /usr/bin/mwad, the system unit (/lib/systemd/system),
# the user unit (/usr/lib/systemd/user), the sysusers file, /etc/mwad/example.yaml
# (a conffile), the docs, man pages from swift-argument-parser's generate-manual plugin
# and bash/zsh/fish completions from `mwad --generate-completion-script`. Depends: is
# what dpkg-shlibdeps derives from the binary, checked against ldd. Prints the path.
# Usage: scripts/build-deb.sh [OUT_DIR]   (default dist)
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-dist}")

source scripts/release-build.sh
release_build
binary=$release_binary
version=$("$binary" --version)
arch=$(dpkg --print-architecture)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The tree as dpkg-shlibdeps expects it: debian/<package>/ beside debian/control.
root=$work/src/debian/mwad

# The program, stripped of its symbols (72 MB instead of 122 MB), and its units with
# the package's paths.
mkdir -p "$root"
install -D -m 755 "$binary" "$root/usr/bin/mwad"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/mwad"
install -d "$root/lib/systemd/system" "$root/usr/lib/systemd/user"
sed -e 's|/usr/local/bin/mwad|/usr/bin/mwad|g' -e 's|/usr/local/share/doc/mwad|/usr/share/doc/mwad|g' \
    systemd/mwad@.service > "$root/lib/systemd/system/mwad@.service"
install -m 644 systemd/user/mwad@.service "$root/usr/lib/systemd/user/mwad@.service"
chmod 644 "$root/lib/systemd/system/mwad@.service"
install -D -m 644 systemd/mwad.sysusers "$root/usr/lib/sysusers.d/mwad.conf"
install -D -m 644 config/mwad.yaml "$root/etc/mwad/example.yaml"

# Documentation: the docs the units name, uncompressed (Documentation=file://…), the
# rest compressed as Debian policy asks.
doc=$root/usr/share/doc/mwad
install -D -m 644 -t "$doc" README.md docs/OPERATING.md docs/REFERENCE.md packaging/deb/copyright
sed -e "s|@VERSION@|$version|" -e "s|@DATE@|$(git log -1 --format=%cD 2>/dev/null || date -R)|" \
    packaging/deb/changelog | gzip -9n > "$doc/changelog.gz"
chmod 644 "$doc/changelog.gz"

# Man pages, one per command, from the same definitions as --help (the debug build's:
# the same commands, and CI has built it already). generate-manual names a subcommand's
# page "mwad.merge" with NAME "mwad merge", which man's whatis database cannot parse:
# they become mwad-merge(1) with NAME mwad-merge, as git's pages are, and the synopsis
# keeps the command as typed. `mwad help` gets no page.
swift package plugin generate-manual --configuration debug --multi-page \
    --date "$(git log -1 --format=%cs 2>/dev/null || date +%F)" >&2
manuals=.build/plugins/GenerateManual/outputs/mwad
install -d "$root/usr/share/man/man1"
for page in "$manuals"/*.1; do
    name=$(basename "$page" .1)
    [[ $name == mwad.help ]] && continue
    dashed=${name//./-}
    awk -v name="$name" -v dashed="$dashed" -v typed="${name//./ }" '
        /^\.Dt / { $2 = toupper(dashed) }
        /^\.Nm "/ && !named { print ".Nm " dashed; named = 1; next }
        /^\.Nm$/ && name != dashed { print ".Nm \"" typed "\""; next }
        /^\.Xr mwad\.help / { next }
        /^\.Xr mwad\./ { gsub(/\./, "-", $2) }
        { print }' "$page" | sed '/^\.Xr mwad-status 1 ,$/s/ ,$//' | gzip -9n > "$root/usr/share/man/man1/$dashed.1.gz"
done
chmod 644 "$root"/usr/share/man/man1/*.gz

# Shell completions where each shell looks for a package's own.
install -d "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
    "$root/usr/share/fish/vendor_completions.d"
# (bash's is sourced, not run: no #! line.)
"$binary" --generate-completion-script bash | sed '1{/^#!/d}' > "$root/usr/share/bash-completion/completions/mwad"
"$binary" --generate-completion-script zsh > "$root/usr/share/zsh/vendor-completions/_mwad"
"$binary" --generate-completion-script fish > "$root/usr/share/fish/vendor_completions.d/mwad.fish"
chmod 644 "$root"/usr/share/*/*/mwad* "$root"/usr/share/zsh/vendor-completions/_mwad

# Depends: from the binary's dynamic needs (dpkg-shlibdeps reads debian/control).
printf 'Source: mwad\n\nPackage: mwad\nArchitecture: any\n' > "$work/src/debian/control"
depends=$(cd "$work/src" && dpkg-shlibdeps -O debian/mwad/usr/bin/mwad | sed -n 's/^shlibs:Depends=//p')
# Every library ldd resolves must come from a package Depends: names (or one of them pulls in).
for library in $(ldd "$root/usr/bin/mwad" | awk '$3 ~ /^\// { print $3 }'); do
    # dpkg knows a library by the path its package ships it at (/lib or /usr/lib, usrmerge).
    owner=
    for path in "$library" "$(readlink -f "$library")" "${library#/usr}" "/usr$library"; do
        owner=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1) && [[ -n $owner ]] && break
    done
    [[ -n $owner ]] || { echo "build-deb: $library belongs to no package" >&2; exit 1; }
    if ! grep -qw "${owner}" <<<"$depends"; then
        # A dependency of a dependency (a library pulling in another it links).
        read -ra packages <<<"$(sed 's/([^)]*)//g; s/[,|]/ /g' <<<"$depends")"
        # A here-string, not a pipe into grep -q: grep exits at the first match, apt-cache dies
        # of SIGPIPE, and under pipefail the pipeline fails (exit 141) although it matched.
        grep -qw "$owner" <<<"$(apt-cache depends --recurse --important "${packages[@]}" 2>/dev/null)" \
            || { echo "build-deb: $library ($owner) is not covered by Depends: $depends" >&2; exit 1; }
    fi
done

# The lintian tags this package keeps, each with its reason (packaging/deb/lintian-overrides).
install -D -m 644 packaging/deb/lintian-overrides "$root/usr/share/lintian/overrides/mwad"

install -d "$root/DEBIAN"
install -m 755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$root/DEBIAN/"
echo /etc/mwad/example.yaml > "$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
VERSION=$version ARCH=$arch SIZE=$size DEPENDS=$depends \
    awk '{ for (key in ENVIRON) gsub("@" key "@", ENVIRON[key]); print }' packaging/deb/control.in > "$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
chmod 644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

mkdir -p "$out"
deb=$out/mwad_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >&2
echo "$deb"
