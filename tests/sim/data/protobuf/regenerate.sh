#!/usr/bin/env bash
# Regenerate the protobuf fixtures: each NAME.txtpb (protobuf text format, hand-written) is
# encoded by Google's protoc against the published Kubernetes generated.proto files into
# NAME.bin, so the decoder is tested on bytes an independent encoder produced.
# Needs protoc (Debian: protobuf-compiler) and PROTOS, a directory laid out as
# k8s.io/api/<group>/<version>/generated.proto and k8s.io/apimachinery/pkg/... (the
# generated.proto files of kubernetes/api and kubernetes/apimachinery at tag v0.35.7).
# The kubectl-*.bin files are whole request bodies kubectl 1.35.2 sent; they are not regenerated.
set -euo pipefail
cd "$(dirname "$0")"
: "${PROTOS:?set PROTOS to the directory holding k8s.io/...}"
declare -A FILE=(
  [apps.v1]=k8s.io/api/apps/v1 [core.v1]=k8s.io/api/core/v1 [coordination.v1]=k8s.io/api/coordination/v1
  [autoscaling.v1]=k8s.io/api/autoscaling/v1 [meta.v1]=k8s.io/apimachinery/pkg/apis/meta/v1
)
for input in *.txtpb; do
  name=${input%.txtpb}; package=${name%.*}; message=${name##*.}
  dir=${FILE[$package]}
  protoc -I"$PROTOS" --encode="${dir//\//.}.$message" "$PROTOS/$dir/generated.proto" \
    < "$input" > "$name.bin" 2>/dev/null
done
