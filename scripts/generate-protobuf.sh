#!/usr/bin/env bash
# Usage: scripts/generate-protobuf.sh [PATH/TO/protoc-gen-swift]
# Regenerates Sources/SplitLearning/Protocol/split.pb.swift from split.proto. Needs protoc
# (Debian: protobuf-compiler) and protoc-gen-swift built from swift-protobuf 1.39.0:
#   git clone https://github.com/apple/swift-protobuf && cd swift-protobuf && git checkout 1.39.0
#   swift build -c release --product protoc-gen-swift
# The generated file is committed so that builds never run the plugin.
set -euo pipefail
cd "$(dirname "$0")/.."
plugin=${1:-$(command -v protoc-gen-swift || echo /work/tools/swift-protobuf/.build/release/protoc-gen-swift)}
dir=Sources/SplitLearning/Protocol
protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Public --swift_out="$dir" -I "$dir" "$dir/split.proto"
echo "wrote $dir/split.pb.swift"
