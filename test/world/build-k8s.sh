#!/usr/bin/env bash
# Builds the pinned Kubernetes components from the Go module proxy into a cache outside the checkout
# (CI clones afresh every run; the cache must outlive the clone). Does nothing when they are there.
#   OUTPOST_WORLD_CACHE  cache root (default ~/.cache/outpost-world)
set -euo pipefail
here="$(cd "$(dirname "$0")/../tools" && pwd)"
version="$(awk '/^require k8s.io\/kubernetes/ {print $3}' "$here/go.mod")"
cache="${OUTPOST_WORLD_CACHE:-$HOME/.cache/outpost-world}/k8s-$version"
cmds=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubeadm kubectl)
missing=()
for c in "${cmds[@]}"; do [ -x "$cache/bin/$c" ] || missing+=("$c"); done
if [ ${#missing[@]} -eq 0 ]; then echo "$cache/bin"; exit 0; fi
mkdir -p "$cache/bin"
echo "building ${missing[*]} (Kubernetes $version) into $cache/bin; cold on 2 cores this takes a while" >&2
start=$(date +%s)
cd "$here"
pkgs=()
for c in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$cache/bin/" "${pkgs[@]}"
echo "$(( $(date +%s) - start ))" > "$cache/build-seconds"
echo "$cache/bin"
