# shellcheck shell=bash
# Sourced by the scripts that build or check the installed binary (build-deb.sh,
# check-portable.sh), so that they share one release build: Swift's standard library
# linked in (the binary runs without the toolchain) and no $ORIGIN rpath (an installed
# program has no libraries beside it). The README's source install types the same flags.
release_flags=(-c release --static-swift-stdlib --disable-local-rpath)

# release_build: builds the mwad product and sets $release_binary.
release_build() {
    swift build "${release_flags[@]}" --product mwad >&2
    # shellcheck disable=SC2034  # read by the scripts that source this one
    release_binary=$(swift build "${release_flags[@]}" --show-bin-path)/mwad
}
