package alerts_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/alerts"
	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/notify"
	"github.com/wootguard/wootguard/internal/rules"
)

type memSender struct {
	mu  sync.Mutex
	got []notify.Event
}

func (m *memSender) Send(_ context.Context, e notify.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, e)
	return nil
}

func (m *memSender) n() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.got)
}

// Ban alerts only for the chosen rules; the same ban key is quiet for
// min_interval; max_per_hour caps everything.
func TestBanRuleFilterDedupAndHourlyCap(t *testing.T) {
	s := &memSender{}
	a := alerts.New(alerts.Options{Config: config.Alerts{Bans: &config.BanAlert{Rules: rules.StringList{"logins"}},
		MinInterval: rules.Duration(time.Hour), MaxPerHour: 3}, Channels: []notify.Sender{s},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.Run(ctx)
	ban := func(rule, key string) {
		a.Observe(&gateway.Record{Start: time.Now(), Decision: gateway.DecisionPass,
			Events: []rules.Event{{Type: "fail2ban", Rule: rule, Discriminator: key, BanStarted: true}}})
	}
	ban("other", "192.0.2.1") // not a chosen rule
	ban("logins", "192.0.2.1")
	ban("logins", "192.0.2.1") // the same ban again: deduplicated
	for i := 2; i < 10; i++ {
		ban("logins", "192.0.2."+string(rune('0'+i)))
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.n() < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if s.n() != 3 {
		t.Fatalf("%d alerts, want 3 (max_per_hour)", s.n())
	}
	for _, e := range s.got {
		if e.Fields["rule"] != "logins" {
			t.Fatalf("alert for an unchosen rule: %+v", e)
		}
	}
	if s.got[0].Fields["key"] != "192.0.2.1" || s.got[1].Fields["key"] == "192.0.2.1" {
		t.Fatalf("dedup: %+v", s.got)
	}
}
