//go:build tools

// Package tools records the commands this module builds, so `go mod tidy` keeps their dependencies.
// This older patch version exists so upgrades are tested for real: hosted control planes (the three
// control-plane commands) and kubeadm site clusters (kubeadm, kubelet, kubectl, and kube-proxy's image).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubeadm"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
