// Package accesslog writes one line per request — nginx's combined format
// with the decision and rule appended, or JSON lines — so that traffic can
// be shipped and replayed. It reopens its file on demand (SIGUSR1) and by
// itself when logrotate moves the file away.
package accesslog

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/wootguard/wootguard/internal/gateway"
)

// Formats.
const (
	Combined = "combined"
	JSON     = "json"
)

// Log is an open access log. It implements gateway.Observer. Lines are
// buffered and written at least once a second (and whenever 64 KiB
// gathered), so a request costs no system call of its own.
type Log struct {
	path   string
	format string

	mu  sync.Mutex
	f   *os.File
	w   *bufio.Writer
	buf []byte
	err error // the last write error, reported once
}

// Open opens (creating, appending) the log at path.
func Open(path, format string) (*Log, error) {
	if format == "" {
		format = Combined
	}
	if format != Combined && format != JSON {
		return nil, fmt.Errorf("access log: unknown format %q: want combined or json", format)
	}
	l := &Log{path: path, format: format}
	f, err := openFile(path)
	if err != nil {
		return nil, err
	}
	l.f, l.w = f, bufio.NewWriterSize(f, 64<<10)
	return l, nil
}

func openFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("access log: %v", err)
	}
	return f, nil
}

// Observe implements gateway.Observer.
func (l *Log) Observe(rec *gateway.Record) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w == nil {
		return
	}
	if l.format == JSON {
		l.buf = appendJSON(l.buf[:0], rec)
	} else {
		l.buf = appendCombined(l.buf[:0], rec)
	}
	if _, err := l.w.Write(l.buf); err != nil && l.err == nil {
		l.err = err
		fmt.Fprintf(os.Stderr, "wootguard: access log %s: %v\n", l.path, err)
	}
}

// Flush writes buffered lines to the file.
func (l *Log) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w == nil {
		return nil
	}
	return l.w.Flush()
}

// Reopen flushes and reopens the file at the configured path (after
// logrotate renamed it, or on SIGUSR1).
func (l *Log) Reopen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w == nil {
		return nil
	}
	l.w.Flush()
	f, err := openFile(l.path)
	if err != nil {
		return err
	}
	l.f.Close()
	l.f = f
	l.w.Reset(f)
	l.err = nil
	return nil
}

// moved reports whether the path no longer names the open file.
func (l *Log) moved() bool {
	l.mu.Lock()
	f := l.f
	l.mu.Unlock()
	if f == nil {
		return false
	}
	open, err := f.Stat()
	if err != nil {
		return true
	}
	cur, err := os.Stat(l.path)
	if err != nil {
		return true
	}
	return !os.SameFile(open, cur)
}

// Run flushes every interval and reopens the file when it was moved or
// removed, until ctx ends; then it flushes and closes the file.
func (l *Log) Run(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			l.Close()
			return
		case <-tick.C:
			l.Flush()
			if l.moved() {
				if err := l.Reopen(); err != nil {
					fmt.Fprintf(os.Stderr, "wootguard: %v\n", err)
				}
			}
		}
	}
}

// Close flushes and closes the file; later lines are dropped.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w == nil {
		return nil
	}
	l.w.Flush()
	err := l.f.Close()
	l.w, l.f = nil, nil
	return err
}

// appendCombined writes nginx's combined format with the resolved client
// first and two quoted fields more:
// CLIENT - - [02/Jan/2006:15:04:05 -0700] "METHOD URI PROTO" STATUS BYTES "REFERER" "UA" "DECISION" "RULE"
func appendCombined(b []byte, rec *gateway.Record) []byte {
	b = append(b, client(rec)...)
	b = append(b, " - - ["...)
	b = rec.Start.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, "] \""...)
	b = appendEscaped(b, rec.Method)
	b = append(b, ' ')
	b = appendEscaped(b, rec.URI)
	b = append(b, ' ')
	b = appendEscaped(b, rec.Proto)
	b = append(b, "\" "...)
	b = strconv.AppendInt(b, int64(rec.Status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, rec.Bytes, 10)
	for _, f := range []string{rec.Referer, rec.UA, rec.Decision, rec.Rule} {
		b = append(b, " \""...)
		if f == "" {
			b = append(b, '-')
		} else {
			b = appendEscaped(b, f)
		}
		b = append(b, '"')
	}
	return append(b, '\n')
}

func client(rec *gateway.Record) string {
	if rec.Client.IsValid() {
		return rec.Client.String()
	}
	return "-"
}

// appendEscaped escapes as nginx does: '"', '\\', control and non-ASCII
// bytes become \xHH, so a line is always one line and always ASCII.
func appendEscaped(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' || c == '\\' || c < 0x20 || c >= 0x7f {
			b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
			continue
		}
		b = append(b, c)
	}
	return b
}

type jsonLine struct {
	TS         string  `json:"ts"`
	ClientIP   string  `json:"client_ip"`
	Peer       string  `json:"peer"`
	Method     string  `json:"method"`
	URI        string  `json:"uri"`
	Proto      string  `json:"proto"`
	Host       string  `json:"host"`
	Status     int     `json:"status"`
	Bytes      int64   `json:"bytes"`
	DurationMS float64 `json:"duration_ms"`
	Decision   string  `json:"decision"`
	Rule       string  `json:"rule"`
	UserAgent  string  `json:"user_agent"`
	Referer    string  `json:"referer"`
}

func appendJSON(b []byte, rec *gateway.Record) []byte {
	ip := ""
	if rec.Client.IsValid() {
		ip = rec.Client.String()
	}
	line := jsonLine{TS: rec.Start.UTC().Format("2006-01-02T15:04:05.000Z07:00"), ClientIP: ip, Peer: rec.Peer,
		Method: valid(rec.Method), URI: valid(rec.URI), Proto: rec.Proto, Host: valid(rec.Host), Status: rec.Status, Bytes: rec.Bytes,
		DurationMS: float64(rec.Duration.Microseconds()) / 1000, Decision: rec.Decision, Rule: rec.Rule,
		UserAgent: valid(rec.UA), Referer: valid(rec.Referer)}
	data, _ := json.Marshal(line)
	b = append(b, data...)
	return append(b, '\n')
}

// valid keeps a line valid UTF-8 JSON whatever bytes a client sent.
func valid(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return string([]rune(s)) // invalid bytes become U+FFFD
}
