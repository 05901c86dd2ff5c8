package replay

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
)

// Format names a log format.
const (
	FormatAuto     = "auto"     // JSON when the first line is an object, else combined
	FormatCombined = "combined" // nginx combined and its variants, wootguard combined
	FormatJSON     = "json"     // JSON lines (wootguard json or Fields)
)

// Source is one log to read: a path, or "-" for Reader.
type Source struct {
	Name   string
	Reader io.Reader // used when Name is "-"
}

// ReadOptions says how to read logs.
type ReadOptions struct {
	Format string // FormatAuto by default
	Fields Fields // JSON field names (zero: DefaultFields)
	Strict bool   // the first bad line ends the run with an error
	// MaxBadExamples is how many bad lines are kept to show (default 5).
	MaxBadExamples int
}

// BadLine is a line that could not be read.
type BadLine struct {
	File   string `json:"file"`
	Line   int64  `json:"line"`
	Reason string `json:"reason"`
	Text   string `json:"text"`
}

// readStats is what the reader goroutine counts.
type readStats struct {
	lines      atomic.Int64
	bad        int64
	badSamples []BadLine
	bytesRead  atomic.Int64 // of the files as stored (compressed for .gz)
	bytesTotal int64        // sum of the regular files' sizes (0: unknown)
}

const maxLine = 256 << 10

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// sizeOf adds up the sizes of the regular files among srcs.
func sizeOf(srcs []Source) int64 {
	var total int64
	for _, s := range srcs {
		if s.Name == "-" {
			return 0
		}
		fi, err := os.Stat(s.Name)
		if err != nil || !fi.Mode().IsRegular() {
			return 0
		}
		total += fi.Size()
	}
	return total
}

// read parses every source in order and sends records in batches on out.
// It closes out when done; the error is the first fatal one.
func read(ctx context.Context, srcs []Source, o ReadOptions, st *readStats, out chan<- []Record) error {
	defer close(out)
	if o.MaxBadExamples == 0 {
		o.MaxBadExamples = 5
	}
	if o.Fields.Time == nil {
		o.Fields = DefaultFields()
	}
	for _, src := range srcs {
		if err := readOne(ctx, src, o, st, out); err != nil {
			return err
		}
	}
	return nil
}

func readOne(ctx context.Context, src Source, o ReadOptions, st *readStats, out chan<- []Record) error {
	var raw io.Reader
	name := src.Name
	if name == "-" {
		raw, name = src.Reader, "stdin"
		if raw == nil {
			raw = os.Stdin
		}
	} else {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		raw = f
	}
	br := bufio.NewReaderSize(countingReader{raw, &st.bytesRead}, 256<<10)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		defer zr.Close()
		r = zr
	}
	lr := bufio.NewReaderSize(r, 64<<10)
	format := o.Format
	if format == "" {
		format = FormatAuto
	}
	cp := &combinedParser{}
	jp := &jsonParser{f: o.Fields}
	batch := make([]Record, 0, batchSize)
	var lineNo int64
	var long []byte
	for {
		chunk, err := lr.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if len(long) < maxLine {
				long = append(long, chunk...)
			}
			continue
		}
		if len(long) > 0 {
			chunk = append(long, chunk...)
			long = long[:0]
		}
		if len(chunk) > 0 {
			lineNo++
			line := bytes.TrimRight(chunk, "\r\n")
			if len(bytes.TrimSpace(line)) > 0 {
				st.lines.Add(1)
				if format == FormatAuto {
					format = FormatCombined
					if line[0] == '{' {
						format = FormatJSON
					}
				}
				var perr error
				if len(chunk) >= maxLine {
					perr = fmt.Errorf("line longer than %d KiB", maxLine>>10)
				} else {
					batch = append(batch, Record{File: name, Line: lineNo})
					rec := &batch[len(batch)-1]
					text := string(line)
					if format == FormatJSON {
						perr = jp.parse(text, rec)
					} else {
						perr = cp.parse(text, rec)
					}
					if perr != nil {
						batch = batch[:len(batch)-1]
					}
				}
				if perr != nil {
					st.bad++
					bl := BadLine{File: name, Line: lineNo, Reason: perr.Error(), Text: truncate(strings.ToValidUTF8(string(line), "?"), 200)}
					if len(st.badSamples) < o.MaxBadExamples {
						st.badSamples = append(st.badSamples, bl)
					}
					if o.Strict {
						return fmt.Errorf("%s:%d: %s (--strict)", name, lineNo, perr)
					}
				}
				if len(batch) == batchSize {
					select {
					case out <- batch:
					case <-ctx.Done():
						return ctx.Err()
					}
					batch = make([]Record, 0, batchSize)
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
	}
	if len(batch) > 0 {
		select {
		case out <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

const batchSize = 512
