// Package smoke checks that a Chatwoot instance really works after an
// update: /health answers, /api reports the expected version with its
// database and queue reachable, the login page renders, and any checks the
// operator adds. Each check retries until it passes or its deadline ends,
// because a freshly restarted Rails app needs a while to boot.
package smoke

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/probe"
)

// Config is the `updates.smoke` section.
type Config struct {
	// Interval between attempts of one check (default 2s).
	Interval time.Duration `yaml:"interval"`
	// Deadline for one check, all attempts included (default 2m).
	Deadline time.Duration `yaml:"deadline"`
	// RequestTimeout bounds one HTTP request (default 10s).
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// Checks are extra operator-defined HTTP checks.
	Checks []HTTPCheck `yaml:"checks"`
}

// HTTPCheck is one operator-defined check.
type HTTPCheck struct {
	Name         string `yaml:"name"`
	Method       string `yaml:"method"`        // default GET
	Path         string `yaml:"path"`          // joined to the instance URL
	ExpectStatus int    `yaml:"expect_status"` // default 200
	ExpectBody   string `yaml:"expect_body"`   // substring; empty = any body
}

// Result is the outcome of one check.
type Result struct {
	Name     string `json:"name"`
	OK       bool   `json:"ok"`
	Attempts int    `json:"attempts"`
	Detail   string `json:"detail,omitempty"` // last failure, or what passed
}

// Report is the outcome of a whole run.
type Report struct {
	OK      bool     `json:"ok"`
	Results []Result `json:"results"`
}

// Failed lists the names of the failed checks.
func (r Report) Failed() []string {
	var out []string
	for _, c := range r.Results {
		if !c.OK {
			out = append(out, c.Name)
		}
	}
	return out
}

func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = 2 * time.Second
	}
	if c.Deadline <= 0 {
		c.Deadline = 2 * time.Minute
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 10 * time.Second
	}
	return c
}

// Validate reports configuration mistakes before anything runs.
func (c Config) Validate() error {
	if c.Interval < 0 || c.Deadline < 0 || c.RequestTimeout < 0 {
		return fmt.Errorf("smoke: interval, deadline and request_timeout must not be negative")
	}
	for i, ch := range c.Checks {
		if ch.Path == "" || !strings.HasPrefix(ch.Path, "/") {
			return fmt.Errorf("smoke: check %d (%q): path must start with /", i+1, ch.Name)
		}
		if ch.ExpectStatus != 0 && (ch.ExpectStatus < 100 || ch.ExpectStatus > 599) {
			return fmt.Errorf("smoke: check %d (%q): expect_status %d is not an HTTP status", i+1, ch.Name, ch.ExpectStatus)
		}
		switch strings.ToUpper(ch.Method) {
		case "", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		default:
			return fmt.Errorf("smoke: check %d (%q): unknown method %q", i+1, ch.Name, ch.Method)
		}
	}
	return nil
}

// Run checks the instance at baseURL. wantVersion ("4.15.1" or "v4.15.1")
// is what /api must report; empty accepts any version (used to record the
// health of an instance before an update).
func Run(ctx context.Context, baseURL, wantVersion string, cfg Config) Report {
	cfg = cfg.withDefaults()
	baseURL = strings.TrimRight(baseURL, "/")
	client := &http.Client{Timeout: cfg.RequestTimeout}
	checks := []struct {
		name string
		try  func(context.Context) (string, error)
	}{
		{"GET /health", func(ctx context.Context) (string, error) {
			return httpCheck(ctx, client, baseURL, HTTPCheck{Path: "/health"})
		}},
		{"GET /api", func(ctx context.Context) (string, error) {
			return apiCheck(ctx, baseURL, wantVersion)
		}},
		{"GET /app/login", func(ctx context.Context) (string, error) {
			return httpCheck(ctx, client, baseURL, HTTPCheck{Path: "/app/login"})
		}},
	}
	for _, c := range cfg.Checks {
		name := c.Name
		if name == "" {
			name = strings.ToUpper(orDefault(c.Method, "GET")) + " " + c.Path
		}
		checks = append(checks, struct {
			name string
			try  func(context.Context) (string, error)
		}{name, func(ctx context.Context) (string, error) { return httpCheck(ctx, client, baseURL, c) }})
	}
	rep := Report{OK: true}
	for i, c := range checks {
		if i > 0 && !rep.Results[0].OK {
			// A failed /health means the app is not up: waiting out every
			// other check's deadline would only delay the verdict.
			rep.Results = append(rep.Results, Result{Name: c.name, Detail: "not run: /health failed"})
			continue
		}
		res := retry(ctx, c.name, cfg, c.try)
		rep.OK = rep.OK && res.OK
		rep.Results = append(rep.Results, res)
	}
	return rep
}

// retry runs try until it succeeds, the check's deadline passes or ctx ends.
func retry(ctx context.Context, name string, cfg Config, try func(context.Context) (string, error)) Result {
	ctx, cancel := context.WithTimeout(ctx, cfg.Deadline)
	defer cancel()
	res := Result{Name: name}
	for {
		res.Attempts++
		detail, err := try(ctx)
		if err == nil {
			res.OK, res.Detail = true, detail
			return res
		}
		// An attempt cut short by the deadline says less than the one
		// before it, which shows why the check kept failing.
		if ctx.Err() == nil || res.Detail == "" {
			res.Detail = err.Error()
		}
		t := time.NewTimer(cfg.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			res.Detail += fmt.Sprintf(" (gave up after %d attempts)", res.Attempts)
			return res
		case <-t.C:
		}
	}
}

func httpCheck(ctx context.Context, client *http.Client, baseURL string, c HTTPCheck) (string, error) {
	method := strings.ToUpper(orDefault(c.Method, "GET"))
	want := c.ExpectStatus
	if want == 0 {
		want = http.StatusOK
	}
	req, err := http.NewRequestWithContext(ctx, method, baseURL+c.Path, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return "", fmt.Errorf("%s %s: reading body: %w", method, c.Path, err)
	}
	if resp.StatusCode != want {
		return "", fmt.Errorf("%s %s: status %d, want %d", method, c.Path, resp.StatusCode, want)
	}
	if c.ExpectBody != "" && !strings.Contains(string(body), c.ExpectBody) {
		return "", fmt.Errorf("%s %s: body does not contain %q", method, c.Path, c.ExpectBody)
	}
	return fmt.Sprintf("status %d", resp.StatusCode), nil
}

func apiCheck(ctx context.Context, baseURL, wantVersion string) (string, error) {
	res, err := probe.Probe(ctx, baseURL)
	if err != nil {
		return "", err
	}
	if res.Source != "api" {
		return "", fmt.Errorf("/api did not answer with Chatwoot's JSON (version %s was read from the %s)", res.Version, res.Source)
	}
	var problems []string
	if want := strings.TrimPrefix(wantVersion, "v"); want != "" && strings.TrimPrefix(res.Version, "v") != want {
		problems = append(problems, fmt.Sprintf("version %q, want %q", res.Version, want))
	}
	if res.DataServices != "ok" {
		problems = append(problems, fmt.Sprintf("data_services %q", res.DataServices))
	}
	if res.QueueServices != "ok" {
		problems = append(problems, fmt.Sprintf("queue_services %q", res.QueueServices))
	}
	if len(problems) > 0 {
		return "", fmt.Errorf("/api: %s", strings.Join(problems, ", "))
	}
	return "version " + res.Version, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
