package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStorageArchiveRoundTrip(t *testing.T) {
	src := makeStorage(t)
	var buf bytes.Buffer
	entries, skipped, err := archiveDir(src, &buf)
	must(t, err)
	want := tree(t, src)
	if entries != len(want)-1 || len(skipped) != 0 { // tree includes "." itself
		t.Errorf("archived %d entries (skipped %v), tree has %d", entries, skipped, len(want)-1)
	}
	dest := filepath.Join(t.TempDir(), "restored")
	must(t, extractArchive(bytes.NewReader(buf.Bytes()), dest))
	got := tree(t, dest)
	if !maps.Equal(got, want) {
		for k := range maps.Keys(want) {
			if got[k] != want[k] {
				t.Errorf("%s: got %q, want %q", k, got[k], want[k])
			}
		}
		for k := range maps.Keys(got) {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: extra entry %q", k, got[k])
			}
		}
	}
}

// tarGz builds an archive by hand, for entries archiveDir never writes.
func tarGz(t *testing.T, hdrs ...*tar.Header) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, h := range hdrs {
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len("payload"))
		}
		must(t, tw.WriteHeader(h))
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte("payload"))
		}
	}
	must(t, tw.Close())
	must(t, gz.Close())
	return buf.Bytes()
}

// A storage archive is data from disk: it must not be able to write
// outside the directory it is restored into.
func TestExtractArchiveStaysInside(t *testing.T) {
	tests := []struct {
		name string
		hdrs []*tar.Header
		want string
	}{
		{"dot-dot", []*tar.Header{{Name: "../escaped", Typeflag: tar.TypeReg, Mode: 0o644}}, "outside"},
		{"absolute", []*tar.Header{{Name: "/tmp/escaped", Typeflag: tar.TypeReg, Mode: 0o644}}, "outside"},
		{"through own symlink", []*tar.Header{
			{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "..", Mode: 0o777},
			{Name: "link/escaped", Typeflag: tar.TypeReg, Mode: 0o644},
		}, "escaped"},
		{"not gzip", nil, "storage archive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			dest := filepath.Join(base, "storage")
			data := []byte("plain text")
			if tt.hdrs != nil {
				data = tarGz(t, tt.hdrs...)
			}
			err := extractArchive(bytes.NewReader(data), dest)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
			if _, err := os.Lstat(filepath.Join(base, "escaped")); err == nil {
				t.Error("an entry was written outside the destination")
			}
		})
	}
}
