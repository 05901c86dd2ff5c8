package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// hook is a test webhook receiver that records bodies and can be told to
// fail.
type hook struct {
	mu      sync.Mutex
	bodies  [][]byte
	headers []http.Header
	fail    bool
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fail {
		http.Error(w, "receiver broken", http.StatusInternalServerError)
		return
	}
	b, _ := io.ReadAll(r.Body)
	h.bodies = append(h.bodies, b)
	h.headers = append(h.headers, r.Header.Clone())
}

func (h *hook) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.bodies)
}

func (h *hook) setFail(v bool) {
	h.mu.Lock()
	h.fail = v
	h.mu.Unlock()
}

func newHook(t *testing.T) (*hook, string) {
	h := &hook{}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, srv.URL
}

var testEvent = Event{Kind: "advisory.new", Key: "advisory.new:GHSA-9pgm-75gg-6948", Severity: "critical",
	Title: "high advisory GHSA-9pgm-75gg-6948 affects your Chatwoot 4.10.0", Text: "SQL injection",
	Fields: map[string]string{"fixed_in": "4.11.2", "cvss": "8.5"}, Time: time.Date(2026, 6, 20, 10, 0, 0, 0, time.UTC)}

func TestWebhookSendsEventJSON(t *testing.T) {
	h, url := newHook(t)
	w := &Webhook{URL: url, Headers: map[string]string{"Authorization": "Bearer t0k"}}
	if err := w.Send(context.Background(), testEvent); err != nil {
		t.Fatal(err)
	}
	var got Event
	if err := json.Unmarshal(h.bodies[0], &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, testEvent) {
		t.Errorf("got %+v", got)
	}
	if h.headers[0].Get("Authorization") != "Bearer t0k" || h.headers[0].Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", h.headers[0])
	}
	h.setFail(true)
	err := w.Send(context.Background(), testEvent)
	if err == nil || !strings.Contains(err.Error(), "HTTP 500 receiver broken") {
		t.Errorf("error = %v", err)
	}
}

func TestSlackBody(t *testing.T) {
	h, url := newHook(t)
	if err := (&Slack{URL: url + "/services/T000/B000/SECRET"}).Send(context.Background(), testEvent); err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(h.bodies[0], &body); err != nil {
		t.Fatal(err)
	}
	want := ":rotating_light: [CRITICAL] *high advisory GHSA-9pgm-75gg-6948 affects your Chatwoot 4.10.0*\nSQL injection\n• cvss: 8.5\n• fixed_in: 4.11.2"
	if len(body) != 1 || body["text"] != want {
		t.Errorf("Slack body %s, want {\"text\": %q}", h.bodies[0], want)
	}
	// Slack's secret is in the URL path: errors must not print it.
	h.setFail(true)
	err := (&Slack{URL: url + "/services/T000/B000/SECRET"}).Send(context.Background(), testEvent)
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error %v leaks or is missing", err)
	}
}

type failing struct{ calls int }

func (f *failing) Send(context.Context, Event) error { f.calls++; return errors.New("down") }

func TestMultiContinuesPastFailures(t *testing.T) {
	h, url := newHook(t)
	bad := &failing{}
	err := Multi{bad, &Webhook{URL: url}}.Send(context.Background(), testEvent)
	if err == nil || h.count() != 1 || bad.calls != 1 {
		t.Errorf("err %v, delivered %d", err, h.count())
	}
}

func TestOnceAcrossRestartsAndFailures(t *testing.T) {
	h, url := newHook(t)
	state := filepath.Join(t.TempDir(), "sub", "notify-state.json")
	ctx := context.Background()
	open := func() *Once {
		o, err := NewOnce(state, &Webhook{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	o := open()
	// A failed delivery is not recorded...
	h.setFail(true)
	if err := o.Send(ctx, testEvent); err == nil {
		t.Fatal("want the receiver's error")
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("state written after a failure: %v", err)
	}
	// ...so the next attempt delivers, once.
	h.setFail(false)
	for i := 0; i < 3; i++ {
		if err := o.Send(ctx, testEvent); err != nil {
			t.Fatal(err)
		}
	}
	// A new process (state from file) does not resend.
	if err := open().Send(ctx, testEvent); err != nil {
		t.Fatal(err)
	}
	if n := h.count(); n != 1 {
		t.Errorf("delivered %d times, want 1", n)
	}
	// Events without a key always go; a new key goes once.
	noKey := testEvent
	noKey.Key = ""
	other := testEvent
	other.Key = "release.new:v4.18.0"
	for _, e := range []Event{noKey, noKey, other, other} {
		if err := open().Send(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.count(); n != 4 {
		t.Errorf("delivered %d, want 4", n)
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(filepath.Dir(state))
	if len(entries) != 1 {
		t.Errorf("state dir holds %d entries, want 1", len(entries))
	}
}

func TestOpenStateDamaged(t *testing.T) {
	p := filepath.Join(t.TempDir(), "s.json")
	os.WriteFile(p, []byte(`{"sent":`), 0o600)
	if _, err := OpenState(p); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("error = %v", err)
	}
	if _, err := OpenState(""); err == nil {
		t.Error("empty path: no error")
	}
}

func TestFromConfig(t *testing.T) {
	h, url := newHook(t)
	slackHook, slackURL := newHook(t)
	state := filepath.Join(t.TempDir(), "state.json")
	s, err := FromConfigEnv(Config{
		Webhooks:  []WebhookConfig{{URL: url, Headers: map[string]string{"X-Token": "a"}}},
		Slack:     []SlackConfig{{URL: slackURL}},
		StateFile: state,
	}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	// Slack fails on the first round: the webhook must not get the event
	// twice when Slack is retried.
	slackHook.setFail(true)
	if err := s.Send(context.Background(), testEvent); err == nil {
		t.Fatal("want Slack's error")
	}
	slackHook.setFail(false)
	if err := s.Send(context.Background(), testEvent); err != nil {
		t.Fatal(err)
	}
	if h.count() != 1 || slackHook.count() != 1 {
		t.Errorf("webhook %d, slack %d deliveries; want 1 each", h.count(), slackHook.count())
	}

	env := func(k string) string {
		if k == "SMTP_PW" {
			return "pw"
		}
		return ""
	}
	good := SMTPConfig{Host: "smtp.example.com", From: "w@example.com", To: []string{"ops@example.com"}}
	bad := []struct {
		c       Config
		wantErr string
	}{
		{Config{Webhooks: []WebhookConfig{{URL: "hooks.example.com/x"}}}, "notify.webhooks[0].url"},
		{Config{Slack: []SlackConfig{{URL: ""}}}, "notify.slack[0].url"},
		{Config{SMTP: &SMTPConfig{From: "w@example.com", To: []string{"a@example.com"}}}, "notify.smtp.host is required"},
		{Config{SMTP: &SMTPConfig{Host: "h", From: "not an address", To: []string{"a@example.com"}}}, "notify.smtp.from"},
		{Config{SMTP: &SMTPConfig{Host: "h", From: "w@example.com"}}, "notify.smtp.to needs"},
		{Config{SMTP: &SMTPConfig{Host: "h", From: "w@example.com", To: []string{"a@example.com", "x\r\nBcc: evil"}}}, "notify.smtp.to"},
		{Config{SMTP: &SMTPConfig{Host: "h", Username: "u", From: "w@example.com", To: []string{"a@example.com"}}}, "password_env"},
		{Config{SMTP: &SMTPConfig{Host: "h", Username: "u", PasswordEnv: "UNSET", From: "w@example.com", To: []string{"a@example.com"}}}, "UNSET is empty"},
		{Config{SMTP: &SMTPConfig{Host: "h", Port: 70000, From: "w@example.com", To: []string{"a@example.com"}}}, "not a TCP port"},
	}
	for _, tt := range bad {
		if _, err := FromConfigEnv(tt.c, env); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%+v: error %v, want %q", tt.c, err, tt.wantErr)
		}
	}
	withPW := good
	withPW.Username, withPW.PasswordEnv = "u", "SMTP_PW"
	if s, err := FromConfigEnv(Config{SMTP: &withPW}, env); err != nil || len(s.(Multi)) != 1 {
		t.Errorf("good SMTP config: %v", err)
	}
	if s, err := FromConfig(Config{}); err != nil || len(s.(Multi)) != 0 || !(Config{}).Empty() {
		t.Errorf("empty config: %v %v", s, err)
	}
}

func TestStateMergesOtherWriters(t *testing.T) {
	p := filepath.Join(t.TempDir(), "shared.json")
	a, err := OpenState(p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenState(p) // a second process, loaded before a wrote
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := a.markSent("webhook:1", "update.done:u1", now); err != nil {
		t.Fatal(err)
	}
	if err := b.markSent("webhook:1", "release.new:v4.18.0", now); err != nil {
		t.Fatal(err)
	}
	c, err := OpenState(p)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Sent("webhook:1", "update.done:u1") || !c.Sent("webhook:1", "release.new:v4.18.0") {
		t.Errorf("an entry was lost: %v", c.sent)
	}
}
