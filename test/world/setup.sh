#!/usr/bin/env bash
# Installs what the test world needs on this machine, and only what is missing, so a warm run takes
# seconds. Today: the SSH test hosts (openssh-server, iproute2). The Kubernetes seed cluster (binaries
# built from Go modules, containerd, images) comes next; see test/world/README.md.
set -euo pipefail
need=()
command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
command -v ss >/dev/null 2>&1 || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
  echo "test world: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# sshd is started by the fixture only, never as a service.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet ssh 2>/dev/null; then :; fi
exit 0
