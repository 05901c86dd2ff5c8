package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Webhook POSTs each Event as JSON (the Event's own field names) to URL.
type Webhook struct {
	URL     string
	Headers map[string]string // e.g. an Authorization header
	Client  *http.Client      // nil: a client with a 10 s timeout
}

// Send delivers e; any status other than 2xx is an error.
func (w *Webhook) Send(ctx context.Context, e Event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return postJSON(ctx, w.Client, w.URL, w.Headers, body)
}

// Slack posts to a Slack incoming webhook ({"text": "..."}).
type Slack struct {
	URL    string
	Client *http.Client
}

// Send delivers e as a readable Slack message.
func (s *Slack) Send(ctx context.Context, e Event) error {
	body, err := json.Marshal(map[string]string{"text": SlackText(e)})
	if err != nil {
		return err
	}
	return postJSON(ctx, s.Client, s.URL, nil, body)
}

var defaultClient = &http.Client{Timeout: 10 * time.Second}

func postJSON(ctx context.Context, client *http.Client, target string, headers map[string]string, body []byte) error {
	if client == nil {
		client = defaultClient
	}
	u, err := url.Parse(target)
	if err != nil {
		return fmt.Errorf("notification URL: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("notification URL %s: %v", u.Redacted(), err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "wootguard")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		// The URL may carry a secret (Slack's do): never print it whole.
		return fmt.Errorf("POST %s: %v", redact(u), unwrapURLError(err))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: HTTP %d %s", redact(u), resp.StatusCode, bytes.TrimSpace(snippet))
	}
	return nil
}

// redact keeps scheme, host and the first path element: Slack and many
// webhook services put the secret in the path.
func redact(u *url.URL) string {
	path := u.EscapedPath()
	if len(path) > 1 {
		if i := indexFrom(path, '/', 1); i > 0 {
			path = path[:i] + "/…"
		}
	}
	return u.Scheme + "://" + u.Host + path
}

func indexFrom(s string, c byte, from int) int {
	for i := from; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
