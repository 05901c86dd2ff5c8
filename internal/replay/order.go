package replay

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"slices"
	"time"
)

// chronological orders log files by their first timestamp, so that
// "access.log*" (newest first: access.log, access.log.1, access.log.2.gz)
// replays oldest first, as the counters need. Stdin, and files without a
// readable line, keep their place after the dated ones.
func chronological(srcs []Source, o ReadOptions) []Source {
	for _, s := range srcs {
		if s.Name == "-" {
			return srcs
		}
	}
	type dated struct {
		src Source
		t   time.Time
	}
	ds := make([]dated, len(srcs))
	for i, s := range srcs {
		ds[i] = dated{s, firstTime(s.Name, o)}
	}
	slices.SortStableFunc(ds, func(a, b dated) int {
		switch {
		case a.t.IsZero() || b.t.IsZero():
			return 0
		case a.t.Before(b.t):
			return -1
		case b.t.Before(a.t):
			return 1
		}
		return 0
	})
	out := make([]Source, len(ds))
	for i, d := range ds {
		out[i] = d.src
	}
	return out
}

// firstTime is the time of the first readable line among a file's first
// hundred (zero when there is none).
func firstTime(name string, o ReadOptions) time.Time {
	f, err := os.Open(name)
	if err != nil {
		return time.Time{}
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return time.Time{}
		}
		defer zr.Close()
		r = zr
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	fields := o.Fields
	if fields.Time == nil {
		fields = DefaultFields()
	}
	cp, jp := &combinedParser{}, &jsonParser{f: fields}
	for i := 0; i < 100 && sc.Scan(); i++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var rec Record
		var err error
		if o.Format == FormatJSON || (o.Format != FormatCombined && line[0] == '{') {
			err = jp.parse(string(line), &rec)
		} else {
			err = cp.parse(string(line), &rec)
		}
		if err == nil {
			return rec.Time
		}
	}
	return time.Time{}
}
