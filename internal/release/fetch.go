package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Fetcher reads feeds from URLs (with retries, ETag revalidation, a token
// and an on-disk cache) or from local files and directories (air-gapped
// installs). The zero value works: no cache, 10 s timeout, 2 retries.
type Fetcher struct {
	Client   *http.Client  // nil: a plain client
	Timeout  time.Duration // per attempt; 0 means 10 s
	Retries  int           // extra attempts on 5xx and network errors; <0 none, 0 means 2
	Backoff  time.Duration // wait before the first retry, doubled each time; 0 means 1 s
	CacheDir string        // "" disables the cache
	// Token is sent as "Authorization: Bearer" to TokenHosts only (nil
	// means api.github.com and github.com), so a feed URL pointing
	// elsewhere never receives it.
	Token      string
	TokenHosts []string
	// TokenEnv names the variable the token comes from, for messages.
	TokenEnv string
	Now      func() time.Time // nil: time.Now
}

// Document is what a feed source yielded.
type Document struct {
	Source    string
	Files     []File    // one for a URL or a file; each *.json of a directory
	FetchedAt time.Time // when the body was last confirmed current
	FromCache bool      // the feed could not be read; this is the cached copy
	// Problem says why the cache was used (nil when the feed answered).
	Problem error
}

// File is one body of a Document.
type File struct {
	Name string
	Body []byte
}

// Age is how old the data is at now.
func (d *Document) Age(now time.Time) time.Duration { return now.Sub(d.FetchedAt) }

// HTTPStatusError is a non-success HTTP answer.
type HTTPStatusError struct {
	URL     string
	Code    int
	Message string // GitHub's JSON "message", if any
}

func (e *HTTPStatusError) Error() string {
	s := fmt.Sprintf("%s: HTTP %d %s", e.URL, e.Code, http.StatusText(e.Code))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// RateLimitError is GitHub refusing because the request quota is used up.
type RateLimitError struct {
	URL      string
	Code     int
	Reset    time.Time // zero when the server did not say
	TokenEnv string
	now      time.Time
}

func (e *RateLimitError) Error() string {
	s := fmt.Sprintf("%s: GitHub API rate limit exceeded (HTTP %d)", e.URL, e.Code)
	if !e.Reset.IsZero() {
		s += fmt.Sprintf("; it resets at %s (in %s)", e.Reset.UTC().Format(time.RFC3339),
			e.Reset.Sub(e.now).Round(time.Second))
	}
	env := e.TokenEnv
	if env == "" {
		env = "GITHUB_TOKEN"
	}
	return s + "; set " + env + " to a GitHub token for a higher limit"
}

// IsURL reports whether source is fetched over HTTP rather than read from disk.
func IsURL(source string) bool {
	return strings.HasPrefix(source, "http://") || strings.HasPrefix(source, "https://")
}

// Fetch reads source. validate checks a fresh body before it is trusted
// and cached (for example ParseReleases); a body failing it counts as a
// feed failure. When a URL cannot be read but a cached copy exists, the
// copy is returned with FromCache and Problem set: the caller must say
// how old it is. With neither, the error is returned.
func (f *Fetcher) Fetch(ctx context.Context, source string, validate func([]byte) error) (*Document, error) {
	if !IsURL(source) {
		return readLocal(source)
	}
	u, err := url.Parse(source)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("feed URL %q is not valid", source)
	}
	cached := readCache(f.CacheDir, source)
	body, etag, notModified, err := f.get(ctx, u, cached)
	if err == nil && !notModified && validate != nil {
		err = validate(body)
	}
	now := f.now()
	if err != nil {
		if cached != nil {
			return &Document{Source: source, Files: []File{{Name: source, Body: cached.Body}},
				FetchedAt: cached.FetchedAt, FromCache: true, Problem: err}, nil
		}
		return nil, err
	}
	entry := &cacheEntry{URL: source, ETag: etag, FetchedAt: now, Body: body}
	if notModified {
		entry.Body, entry.ETag = cached.Body, cached.ETag
		if etag != "" {
			entry.ETag = etag
		}
	}
	// A cache that cannot be written costs only the next outage's answer.
	_ = writeCache(f.CacheDir, entry)
	return &Document{Source: source, Files: []File{{Name: source, Body: entry.Body}}, FetchedAt: now}, nil
}

func (f *Fetcher) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// get performs the request with retries. notModified means the cached
// body is current (HTTP 304).
func (f *Fetcher) get(ctx context.Context, u *url.URL, cached *cacheEntry) (body []byte, etag string, notModified bool, err error) {
	retries := f.Retries
	if retries == 0 {
		retries = 2
	}
	if retries < 0 {
		retries = 0
	}
	backoff := f.Backoff
	if backoff <= 0 {
		backoff = time.Second
	}
	for attempt := 0; ; attempt++ {
		var retry bool
		body, etag, notModified, retry, err = f.attempt(ctx, u, cached)
		if err == nil || !retry || attempt >= retries {
			return body, etag, notModified, err
		}
		t := time.NewTimer(backoff << attempt)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, "", false, err
		case <-t.C:
		}
	}
}

// maxFeedBytes bounds a feed body; Chatwoot's feeds are far smaller.
const maxFeedBytes = 32 << 20

func (f *Fetcher) attempt(ctx context.Context, u *url.URL, cached *cacheEntry) (body []byte, etag string, notModified, retry bool, err error) {
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "", false, false, err
	}
	req.Header.Set("User-Agent", "wootguard")
	req.Header.Set("Accept", "application/vnd.github+json, application/atom+xml;q=0.9, application/json;q=0.8")
	if cached != nil && cached.ETag != "" {
		req.Header.Set("If-None-Match", cached.ETag)
	}
	if f.Token != "" && f.tokenAllowed(u.Hostname()) {
		req.Header.Set("Authorization", "Bearer "+f.Token)
	}
	client := f.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		// Network errors and per-attempt timeouts are worth a retry; the
		// caller giving up is not.
		return nil, "", false, parent.Err() == nil, describeNetErr(u, err, timeout)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		if cached == nil {
			return nil, "", false, false, fmt.Errorf("%s: HTTP 304 Not Modified but nothing is cached", u.Redacted())
		}
		return nil, resp.Header.Get("ETag"), true, false, nil
	case resp.StatusCode == http.StatusTooManyRequests ||
		resp.StatusCode == http.StatusForbidden && resp.Header.Get("X-RateLimit-Remaining") == "0":
		return nil, "", false, false, &RateLimitError{URL: u.Redacted(), Code: resp.StatusCode,
			Reset: rateLimitReset(resp.Header, f.now()), TokenEnv: f.TokenEnv, now: f.now()}
	case resp.StatusCode >= 300:
		return nil, "", false, resp.StatusCode >= 500, &HTTPStatusError{URL: u.Redacted(), Code: resp.StatusCode,
			Message: githubMessage(resp.Body)}
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxFeedBytes+1))
	if err != nil {
		return nil, "", false, true, fmt.Errorf("%s: reading body: %w", u.Redacted(), describeNetErr(u, err, timeout))
	}
	if len(body) > maxFeedBytes {
		return nil, "", false, false, fmt.Errorf("%s: body larger than %d MiB", u.Redacted(), maxFeedBytes>>20)
	}
	return body, resp.Header.Get("ETag"), false, false, nil
}

func (f *Fetcher) tokenAllowed(host string) bool {
	hosts := f.TokenHosts
	if hosts == nil {
		hosts = []string{"api.github.com", "github.com"}
	}
	for _, h := range hosts {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}

func describeNetErr(u *url.URL, err error, timeout time.Duration) error {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%s: no answer within %s (timeout)", u.Redacted(), timeout)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s: cancelled", u.Redacted())
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return fmt.Errorf("%s: cannot connect: %v", u.Redacted(), oe.Err)
	}
	return fmt.Errorf("%s: %v", u.Redacted(), err)
}

// rateLimitReset reads X-RateLimit-Reset (Unix seconds), else Retry-After
// (seconds).
func rateLimitReset(h http.Header, now time.Time) time.Time {
	if s, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil && s > 0 {
		return time.Unix(s, 0)
	}
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s >= 0 {
		return now.Add(time.Duration(s) * time.Second)
	}
	return time.Time{}
}

func githubMessage(r io.Reader) string {
	var m struct {
		Message string `json:"message"`
	}
	data, _ := io.ReadAll(io.LimitReader(r, 4096))
	if json.Unmarshal(data, &m) == nil {
		return m.Message
	}
	return ""
}

// readLocal reads a file, or every *.json file of a directory.
func readLocal(path string) (*Document, error) {
	info, err := os.Stat(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("feed file %s does not exist (give a file, a directory or an http(s) URL)", path)
		}
		return nil, fmt.Errorf("feed file: %v", err)
	}
	doc := &Document{Source: path, FetchedAt: info.ModTime()}
	if !info.IsDir() {
		body, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("feed file: %v", err)
		}
		doc.Files = []File{{Name: path, Body: body}}
		return doc, nil
	}
	names, err := filepath.Glob(filepath.Join(path, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("feed directory %s holds no *.json files", path)
	}
	for _, n := range names {
		body, err := os.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("feed file: %v", err)
		}
		if st, err := os.Stat(n); err == nil && st.ModTime().Before(doc.FetchedAt) {
			doc.FetchedAt = st.ModTime()
		}
		doc.Files = append(doc.Files, File{Name: n, Body: body})
	}
	return doc, nil
}
