// Package probe finds out which Chatwoot version is running: over HTTP
// from GET /api (falling back to the login page's globalConfig), or from
// an installation directory on disk.
//
// Typical use:
//
//	res, err := probe.Probe(ctx, "http://127.0.0.1:3000")
//	if err != nil { ... }         // unreachable, HTTP error, no version found
//	fmt.Println(res.Version)      // "4.15.1"
package probe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/weburl"
)

// Result is what a probe found. Fields a source does not provide are empty:
// only "api" has QueueServices/DataServices ("ok" or "failing"); GitSHA
// comes from the login page or the directory's .git_sha.
type Result struct {
	Version       string `json:"version"`
	QueueServices string `json:"queue_services,omitempty"`
	DataServices  string `json:"data_services,omitempty"`
	GitSHA        string `json:"git_sha,omitempty"`
	Source        string `json:"source"` // "api" | "login-page" | "dir"
}

// DefaultTimeout bounds a whole Probe when ctx has no deadline.
const DefaultTimeout = 10 * time.Second

// maxBody bounds what is read of a response; the login page is ~10 KiB.
const maxBody = 4 << 20

// StatusError is an HTTP answer other than 200.
type StatusError struct {
	URL  string
	Code int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("GET %s: HTTP %d %s", e.URL, e.Code, http.StatusText(e.Code))
}

// Probe asks the Chatwoot at baseURL ("http://127.0.0.1:3000") for its
// version: GET /api first; if that answers but not with Chatwoot's JSON
// (an error status, an HTML page), GET /app/login and read APP_VERSION
// from window.globalConfig. A connection that fails or times out is
// reported at once, without the fallback. ctx's deadline is honoured;
// without one DefaultTimeout applies.
func Probe(ctx context.Context, baseURL string) (*Result, error) {
	base, err := parseBase(baseURL)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	res, apiErr := fromAPI(ctx, base)
	if apiErr == nil {
		return res, nil
	}
	if isNetErr(apiErr) {
		return nil, apiErr
	}
	res, loginErr := fromLoginPage(ctx, base)
	if loginErr == nil {
		return res, nil
	}
	return nil, fmt.Errorf("cannot read the Chatwoot version: %v; fallback: %v", apiErr, loginErr)
}

func parseBase(baseURL string) (string, error) {
	u, err := weburl.Parse(strings.TrimSpace(baseURL))
	if err != nil {
		return "", fmt.Errorf("Chatwoot URL %q: want http(s)://HOST[:PORT], e.g. http://127.0.0.1:3000", baseURL)
	}
	u.RawQuery, u.Fragment = "", ""
	return strings.TrimRight(u.String(), "/"), nil
}

// netError marks failures to talk to the server at all.
type netError struct{ err error }

func (e *netError) Error() string { return e.err.Error() }
func (e *netError) Unwrap() error { return e.err }

func isNetErr(err error) bool {
	var ne *netError
	return errors.As(err, &ne)
}

func get(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "wootguard-probe")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, &netError{describe(ctx, u, err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, &netError{describe(ctx, u, err)}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{URL: u, Code: resp.StatusCode}
	}
	return body, nil
}

func describe(ctx context.Context, u string, err error) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		d := ""
		if dl, ok := ctx.Deadline(); ok {
			d = " (deadline " + dl.UTC().Format(time.TimeOnly) + " UTC)"
		}
		return fmt.Errorf("GET %s: no answer in time%s: is Chatwoot up and reachable?", u, d)
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return fmt.Errorf("GET %s: cannot connect (%v): is Chatwoot running and is the URL right?", u, oe.Err)
	}
	return fmt.Errorf("GET %s: %v", u, err)
}

func fromAPI(ctx context.Context, base string) (*Result, error) {
	u := base + "/api"
	body, err := get(ctx, u)
	if err != nil {
		return nil, err
	}
	var v struct {
		Version       string `json:"version"`
		QueueServices string `json:"queue_services"`
		DataServices  string `json:"data_services"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("GET %s: not Chatwoot's JSON (%s)", u, snippet(body))
	}
	if v.Version == "" {
		return nil, fmt.Errorf("GET %s: JSON without a \"version\" field", u)
	}
	return &Result{Version: v.Version, QueueServices: v.QueueServices, DataServices: v.DataServices, Source: "api"}, nil
}

var (
	appVersionRE = regexp.MustCompile(`"APP_VERSION"\s*:\s*"([^"]+)"`)
	gitSHARE     = regexp.MustCompile(`"GIT_SHA"\s*:\s*"([^"]*)"`)
)

func fromLoginPage(ctx context.Context, base string) (*Result, error) {
	u := base + "/app/login"
	body, err := get(ctx, u)
	if err != nil {
		return nil, err
	}
	m := appVersionRE.FindSubmatch(body)
	if m == nil {
		return nil, fmt.Errorf("GET %s: no APP_VERSION in the page (is this Chatwoot?)", u)
	}
	res := &Result{Version: string(m[1]), Source: "login-page"}
	if m := gitSHARE.FindSubmatch(body); m != nil {
		res.GitSHA = string(m[1])
	}
	return res, nil
}

// snippet shows the start of a body in an error message.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b[:min(len(b), 60)])), " ")
	if s == "" {
		return "empty body"
	}
	if len(b) > 60 {
		s += "…"
	}
	return fmt.Sprintf("body starts %q", s)
}
