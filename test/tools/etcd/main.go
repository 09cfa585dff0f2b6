// Command etcd is etcd's own main, built from the published server module (the etcd repository's root
// module carries replace directives, so it cannot be built from the proxy directly).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
