#!/usr/bin/env bash
# Builds the test world's binaries from the Go module proxy, pinned by the modules in test/tools, into a
# cache outside the checkout (CI clones afresh every run; the cache must outlive the clone). Each
# component is keyed by its version and built only when missing. Prints the bin directories.
#   OUTPOST_WORLD_CACHE  cache root (default ~/.cache/outpost-world)
set -euo pipefail
tools="$(cd "$(dirname "$0")/../tools" && pwd)"
root="${OUTPOST_WORLD_CACHE:-$HOME/.cache/outpost-world}"

# build NAME MODULE_DIR VERSION_OF PACKAGE... : go build PACKAGES of test/tools/MODULE_DIR into root/NAME-VERSION/bin
build() {
  local name="$1" dir="$tools/$2" version
  version="$(awk -v m="$3" '/^[[:space:]]*\/\// {next} $1 == m || $2 == m {print ($1 == m ? $2 : $3); exit}' "$dir/go.mod")"
  shift 3
  local ldflags='-s -w'
  if [ "$name" = k8s ]; then
    # Kubernetes reads its own version from these (kubeadm picks control-plane versions by it).
    local minor="${version#v1.}"; minor="${minor%%.*}"
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags+=" -X $p.gitVersion=$version -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    done
  fi
  local bin="$root/$name-$version/bin" missing=() pkgs=()
  for p in "$@"; do [ -x "$bin/$(basename "$p")" ] || { missing+=("$(basename "$p")"); pkgs+=("$p"); }; done
  if [ ${#pkgs[@]} -gt 0 ]; then
    mkdir -p "$bin"
    echo "building ${missing[*]} ($name $version) into $bin" >&2
    local start; start=$(date +%s)
    (cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags="$ldflags" -o "$bin/" "${pkgs[@]}")
    # the etcd module's main package is the module root; name its binary etcd
    [ -x "$bin/test-tools" ] && mv "$bin/test-tools" "$bin/etcd"
    echo "$(( $(date +%s) - start ))" > "$bin/../build-seconds"
  fi
  echo "$bin"
}

build k8s kubernetes k8s.io/kubernetes \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/cmd/kubeadm k8s.io/kubernetes/cmd/kubectl
build etcd etcd go.etcd.io/etcd/server/v3 outpost.dev/test-tools/etcd
build cni cni github.com/containernetworking/plugins \
  github.com/containernetworking/plugins/plugins/main/bridge github.com/containernetworking/plugins/plugins/ipam/host-local \
  github.com/containernetworking/plugins/plugins/main/loopback github.com/containernetworking/plugins/plugins/meta/portmap

# Images, as archives for `ctr images import`: pause and busybox for pods, and the control-plane
# components for hosted control planes. Built from the binaries above; no registry is reached.
k8s_bin="$root/k8s-$(awk '/^[[:space:]]*\/\// {next} $2 == "k8s.io/kubernetes" {print $3; exit}' "$tools/kubernetes/go.mod")/bin"
etcd_bin="$(ls -d "$root"/etcd-*/bin | tail -1)"
k8s_version="$(basename "$(dirname "$k8s_bin")")"; k8s_version="${k8s_version#k8s-}"
etcd_version="$(basename "$(dirname "$etcd_bin")")"; etcd_version="${etcd_version#etcd-}"
images="$root/images-$k8s_version-$etcd_version"
tool_bin="$root/image-tools/bin"
images_start=$(date +%s) built_images=0
if [ ! -x "$tool_bin/build-image" ] || [ ! -x "$tool_bin/pause" ]; then
  mkdir -p "$tool_bin"
  (cd "$tools/images" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$tool_bin/" ./cmd/...)
fi
mkdir -p "$images"
image() { # FILE TAG ARGS...
  # keyed by the build's arguments too, so a changed image is rebuilt
  local file="$images/$1-$(echo "$@" | sha256sum | cut -c1-12).tar" tag="$2"; shift 2
  [ -s "$file" ] || { "$tool_bin/build-image" -tag "$tag" -out "$file" "$@"; built_images=1; }
  keep+=("$file")
}
keep=()
image pause outpost.local/pause:test -file "$tool_bin/pause:/pause" -entrypoint /pause
links=()
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || links+=(-link "/bin/$a:busybox"); done
image busybox outpost.local/busybox:test -file /bin/busybox:/bin/busybox "${links[@]}" -cmd /bin/sh
image etcd "outpost.local/etcd:$etcd_version" -file "$etcd_bin/etcd:/usr/local/bin/etcd" -entrypoint /usr/local/bin/etcd
for c in kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do
  image "$c" "outpost.local/$c:$k8s_version" -file "$k8s_bin/$c:/usr/local/bin/$c" -entrypoint "/usr/local/bin/$c"
done
# archives of an older build of the same versions would be imported too: drop them
for f in "$images"/*.tar; do [[ " ${keep[*]} " == *" $f "* ]] || rm -f "$f"; done
[ "$built_images" = 0 ] || echo "$(( $(date +%s) - images_start ))" > "$images/build-seconds"
echo "$images"
