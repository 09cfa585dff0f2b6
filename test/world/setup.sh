#!/usr/bin/env bash
# Installs what the test world needs on this machine, only what is missing, and builds its binaries
# into the cache (test/world/build-k8s.sh: minutes cold, instant warm). Safe to run again.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
need=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
have sshd || need+=(openssh-server)
have ssh-keygen || need+=(openssh-client)
have ip || need+=(iproute2)
have containerd || need+=(containerd)
have runc || need+=(runc)
[ -x /bin/busybox ] && busybox --list 2>/dev/null | grep -q '^httpd$' || need+=(busybox-static)
have conntrack || need+=(conntrack)
have iptables || need+=(iptables)
have socat || need+=(socat)
have ethtool || need+=(ethtool)
have openssl || need+=(openssl)
have sysctl || need+=(procps)
have nsenter || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  echo "test world: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Services are started by the fixtures only (with their own sockets and state), never system-wide.
[ -x /usr/local/go/bin/go ] && export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null 2>&1 || { echo "test world: Go is needed to build Kubernetes from its modules" >&2; exit 1; }
bash "$here/build-k8s.sh" >/dev/null  # prints its progress on stderr
