#!/usr/bin/env bash
# Builds the test world's binaries from the Go module proxy, pinned by the modules in test/tools, into a
# cache outside the checkout (CI clones afresh every run; the cache must outlive the clone). Each
# component is keyed by its version and built only when missing. Prints the bin directories.
#   OUTPOST_WORLD_CACHE  cache root (default ~/.cache/outpost-world)
set -euo pipefail
tools="$(cd "$(dirname "$0")/../tools" && pwd)"
root="${OUTPOST_WORLD_CACHE:-$HOME/.cache/outpost-world}"

# pinned MODULE_DIR MODULE: the version test/tools/MODULE_DIR/go.mod requires of MODULE
pinned() { awk -v m="$2" '/^[[:space:]]*\/\// {next} $1 == m || $2 == m {print ($1 == m ? $2 : $3); exit}' "$tools/$1/go.mod"; }

# build NAME MODULE_DIR VERSION_OF PACKAGE... : go build PACKAGES of test/tools/MODULE_DIR into root/NAME-VERSION/bin
build() {
  local name="$1" dir="$tools/$2" version
  version="$(pinned "$2" "$3")"
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
# The previous patch version, so upgrades are tested for real: its control plane for hosted clusters, and
# kubeadm, kubelet, kubectl and kube-proxy for kubeadm site clusters; a module of its own, so the build
# above is unchanged. CI builds it cold.
build k8s kubernetes-previous k8s.io/kubernetes \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/cmd/kubeadm k8s.io/kubernetes/cmd/kubectl
build etcd etcd go.etcd.io/etcd/server/v3 outpost.dev/test-tools/etcd
build cni cni github.com/containernetworking/plugins \
  github.com/containernetworking/plugins/plugins/main/bridge github.com/containernetworking/plugins/plugins/ipam/host-local \
  github.com/containernetworking/plugins/plugins/main/loopback github.com/containernetworking/plugins/plugins/meta/portmap
build local-path-provisioner local-path-provisioner github.com/rancher/local-path-provisioner github.com/rancher/local-path-provisioner
# site clusters' DNS: kubeadm's CoreDNS addon runs it (the main package is the module root)
build coredns coredns github.com/coredns/coredns github.com/coredns/coredns

# Images, as archives for `ctr images import`: pause and busybox for pods, the control-plane
# components of both Kubernetes versions for hosted control planes, the seed's volume provisioner, and
# CoreDNS for site clusters.
# Built from the binaries above; no registry is reached.
k8s_version="$(pinned kubernetes k8s.io/kubernetes)"; k8s_bin="$root/k8s-$k8s_version/bin"
prev_version="$(pinned kubernetes-previous k8s.io/kubernetes)"; prev_bin="$root/k8s-$prev_version/bin"
etcd_version="$(pinned etcd go.etcd.io/etcd/server/v3)"; etcd_bin="$root/etcd-$etcd_version/bin"
lpp_version="$(pinned local-path-provisioner github.com/rancher/local-path-provisioner)"; lpp_bin="$root/local-path-provisioner-$lpp_version/bin"
coredns_version="$(pinned coredns github.com/coredns/coredns)"; coredns_bin="$root/coredns-$coredns_version/bin"
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
for c in kube-apiserver kube-controller-manager kube-scheduler; do
  image "$c" "outpost.local/$c:$k8s_version" -file "$k8s_bin/$c:/usr/local/bin/$c" -entrypoint "/usr/local/bin/$c"
done
# kube-proxy programs its node's iptables from inside its pod, so its image carries iptables, as upstream's
# (distroless-iptables) does: this machine's (nft or legacy, whichever it uses), its libraries and extensions.
iptables_bin="$(readlink -f /usr/sbin/iptables)"
proxy_files=(-file "$iptables_bin:$iptables_bin")
for lib in $(ldd "$iptables_bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do proxy_files+=(-file "$(readlink -f "$lib"):$lib"); done
xtables_dir="$(readlink -f "$(dirname "$(ldd "$iptables_bin" | awk '$1 ~ /^libxtables/ {print $3}')")/xtables")" # where libxtables looks (the merged /usr path)
for ext in "$xtables_dir"/*.so; do proxy_files+=(-file "$ext:$ext"); done
# in /usr/local/bin: the images' PATH (build-image's) has no sbin
for name in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do proxy_files+=(-link "/usr/local/bin/$name:$iptables_bin"); done
image kube-proxy "outpost.local/kube-proxy:$k8s_version" -file "$k8s_bin/kube-proxy:/usr/local/bin/kube-proxy" "${proxy_files[@]}" -entrypoint /usr/local/bin/kube-proxy
for c in kube-apiserver kube-controller-manager kube-scheduler; do
  image "$c-$prev_version" "outpost.local/$c:$prev_version" -file "$prev_bin/$c:/usr/local/bin/$c" -entrypoint "/usr/local/bin/$c"
done
image "kube-proxy-$prev_version" "outpost.local/kube-proxy:$prev_version" -file "$prev_bin/kube-proxy:/usr/local/bin/kube-proxy" "${proxy_files[@]}" -entrypoint /usr/local/bin/kube-proxy
# the seed's default StorageClass (test/world/local-path.ts); its helper pods run the busybox image
image local-path-provisioner "outpost.local/local-path-provisioner:$lpp_version" \
  -file "$lpp_bin/local-path-provisioner:/usr/local/bin/local-path-provisioner" -entrypoint /usr/local/bin/local-path-provisioner
# kubeadm's CoreDNS addon on site clusters: its Deployment passes only args (-conf ...), so the entrypoint is
# coredns itself, at /coredns as upstream's image has it
image coredns "outpost.local/coredns:$coredns_version" -file "$coredns_bin/coredns:/coredns" -entrypoint /coredns
# archives of an older build of the same versions would be imported too: drop them
for f in "$images"/*.tar; do [[ " ${keep[*]} " == *" $f "* ]] || rm -f "$f"; done
[ "$built_images" = 0 ] || echo "$(( $(date +%s) - images_start ))" > "$images/build-seconds"
echo "$images"
