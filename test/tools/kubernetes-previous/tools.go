//go:build tools

// Package tools records the commands this module builds, so `go mod tidy` keeps their dependencies.
// Only the control plane: this older patch version exists so upgrades of hosted control planes are
// tested for real, and every command more would cost CI's cold build minutes.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
