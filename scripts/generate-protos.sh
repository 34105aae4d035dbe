#!/usr/bin/env bash
# Regenerates Sources/TensorBoard/Generated from Protos/*.proto. The generated Swift is
# committed (building swift-protobuf's protoc-gen-swift takes minutes), so this runs
# only when a .proto changes. Needs protoc (Debian: protobuf-compiler) and a
# protoc-gen-swift of the swift-protobuf version Package.swift resolves, e.g. built
# with `swift build -c release --product protoc-gen-swift` in a checkout of it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
plugin=${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || true)}
[[ -x "$plugin" ]] || { echo "protoc-gen-swift not found: set PROTOC_GEN_SWIFT" >&2; exit 2; }
protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Public \
    --proto_path="$root/Protos" --swift_out="$root/Sources/TensorBoard/Generated" "$root"/Protos/*.proto
