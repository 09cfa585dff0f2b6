// Command build-image writes a single-layer linux/amd64 image as a tarball that `ctr images import`
// reads, from files on this machine:
//
//	build-image -tag outpost.local/busybox:test -out busybox.tar \
//	  -file /bin/busybox:/bin/busybox -link /bin/sh:busybox -entrypoint /bin/sh
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type pairs []string

func (p *pairs) String() string     { return strings.Join(*p, ",") }
func (p *pairs) Set(v string) error { *p = append(*p, v); return nil }

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "build-image: "+format+"\n", args...)
	os.Exit(1)
}

func split(v, what string) (string, string) {
	a, b, ok := strings.Cut(v, ":")
	if !ok || a == "" || b == "" {
		fail("%s %q is not A:B", what, v)
	}
	return a, b
}

func main() {
	var files, links, entrypoint, cmd pairs
	tag := flag.String("tag", "", "image reference, such as outpost.local/pause:test")
	out := flag.String("out", "", "tarball to write")
	flag.Var(&files, "file", "SRC:DEST file to copy into the image (repeatable)")
	flag.Var(&links, "link", "PATH:TARGET symlink to add (repeatable)")
	flag.Var(&entrypoint, "entrypoint", "entrypoint word (repeatable)")
	flag.Var(&cmd, "cmd", "cmd word (repeatable)")
	flag.Parse()
	if *tag == "" || *out == "" || len(files) == 0 {
		fail("-tag, -out and at least one -file are required")
	}

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	addDirs := func(p string) {
		var parents []string
		for d := path.Dir(p); d != "/" && d != "."; d = path.Dir(d) {
			parents = append(parents, d)
		}
		sort.Strings(parents)
		for _, d := range parents {
			if !dirs[d] {
				dirs[d] = true
				must(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(d, "/") + "/", Mode: 0o755}))
			}
		}
	}
	addDirs("/tmp/x")
	for _, f := range files {
		src, dest := split(f, "-file")
		data, err := os.ReadFile(src)
		if err != nil {
			fail("%v", err)
		}
		info, err := os.Stat(src)
		if err != nil {
			fail("%v", err)
		}
		addDirs(dest)
		must(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(dest, "/"), Mode: int64(info.Mode().Perm()), Size: int64(len(data))}))
		_, err = tw.Write(data)
		must(err)
	}
	for _, l := range links {
		p, target := split(l, "-link")
		addDirs(p)
		must(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: strings.TrimPrefix(p, "/"), Linkname: target, Mode: 0o777}))
	}
	must(tw.Close())
	layerBytes := buf.Bytes()

	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerBytes)), nil })
	must(err)
	img, err := mutate.AppendLayers(empty.Image, layer)
	must(err)
	cfg, err := img.ConfigFile()
	must(err)
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	cfg.Config.Entrypoint = entrypoint
	cfg.Config.Cmd = cmd
	cfg.Config.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin"}
	img, err = mutate.ConfigFile(img, cfg)
	must(err)
	ref, err := name.NewTag(*tag)
	must(err)
	must(tarball.WriteToFile(*out, ref, img))
}

func must(err error) {
	if err != nil {
		fail("%v", err)
	}
}
