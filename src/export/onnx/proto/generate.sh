#!/bin/sh
# Regenerates onnx_pb.ts from onnx.proto (the ONNX project's schema, Apache-2.0, taken unmodified from
# onnx/onnx at version 1.23.0, file onnx/onnx.proto). Needs `protoc` (Debian: protobuf-compiler) and the
# dev dependency @bufbuild/protoc-gen-es; the output is committed so that builds need neither.
set -eu
cd "$(dirname "$0")"
protoc --plugin=protoc-gen-es=../../../../node_modules/.bin/protoc-gen-es \
  --es_out=. --es_opt=target=ts,import_extension=js onnx.proto
