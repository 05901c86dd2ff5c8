// Package alerts tells an operator when the gateway needs attention: a
// rule refusing many requests, a ban starting, the store falling back,
// Chatwoot failing. It watches finished requests (a gateway.Observer) and
// the store's statistics, and delivers through internal/notify (webhook,
// Slack, SMTP) on its own goroutine: the request path only counts and
// hands over, so a slow or hanging channel never slows a request. Alerts
// are deduplicated (the same alert stays quiet for min_interval), limited
// overall (max_per_hour), and retried with backoff per channel.
package alerts

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/notify"
	"github.com/wootguard/wootguard/internal/store"
)

// Event kinds.
const (
	KindRefusals      = "gateway.refusals"
	KindBan           = "gateway.ban_started"
	KindStoreFallback = "gateway.store_fallback"
	KindUpstream      = "gateway.upstream_failing"
)

// Options configures an Alerter.
type Options struct {
	Config config.Alerts
	// Channels each receive every alert; a failure is retried on that
	// channel only.
	Channels []notify.Sender
	// Stats is polled for store fallbacks (nil: no store alerts).
	Stats     func() (store.Stats, bool)
	PollEvery time.Duration   // default 10s
	Backoff   []time.Duration // waits between attempts; default 2s, 10s, 1m
	Timeout   time.Duration   // per attempt; default 15s
	Logger    *slog.Logger
	Now       func() time.Time
}

// Alerter is a gateway.Observer that raises alerts.
type Alerter struct {
	o     Options
	queue chan notify.Event

	mu       sync.Mutex
	refusals map[string]*span // by rule
	upstream span

	dropped atomic.Int64 // alerts lost because the queue was full

	// worker state (one goroutine)
	lastSent map[string]time.Time
	sent     []time.Time
}

type span struct {
	start time.Time
	count int
}

// add counts one at now in a span of length d and reports whether the
// count just went over threshold.
func (s *span) add(now time.Time, d time.Duration, threshold int) bool {
	if now.Sub(s.start) >= d {
		s.start, s.count = now, 0
	}
	s.count++
	return s.count == threshold+1
}

// New returns an Alerter; call Run to deliver.
func New(o Options) *Alerter {
	if o.PollEvery <= 0 {
		o.PollEvery = 10 * time.Second
	}
	if o.Backoff == nil {
		o.Backoff = []time.Duration{2 * time.Second, 10 * time.Second, time.Minute}
	}
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Alerter{o: o, queue: make(chan notify.Event, 64), refusals: map[string]*span{}, lastSent: map[string]time.Time{}}
}

// Observe implements gateway.Observer: it only counts and, when an alert
// is due, hands it to the delivery goroutine without waiting.
func (a *Alerter) Observe(rec *gateway.Record) {
	c := &a.o.Config
	now := rec.Start
	if r := c.Refusals; r != nil && isRefusal(rec.Decision) && (len(r.Rules) == 0 || slices.Contains(r.Rules, rec.Rule)) {
		a.mu.Lock()
		s := a.refusals[rec.Rule]
		if s == nil {
			s = &span{}
			a.refusals[rec.Rule] = s
		}
		fire := s.add(now, time.Duration(r.Span), r.Threshold)
		a.mu.Unlock()
		if fire {
			a.raise(notify.Event{Kind: KindRefusals, Key: "refusals:" + rec.Rule, Severity: "warning",
				Title:  fmt.Sprintf("Rule %s refused more than %d requests within %s", rec.Rule, r.Threshold, r.Span),
				Text:   "An attack, or a misconfigured client. See `wootguard top` or the dashboard.",
				Fields: map[string]string{"rule": rec.Rule, "threshold": strconv.Itoa(r.Threshold), "span": r.Span.String()}, Time: now})
		}
	}
	if b := c.Bans; b != nil {
		for _, ev := range rec.Events {
			if !ev.BanStarted || ev.DryRun || (len(b.Rules) > 0 && !slices.Contains(b.Rules, ev.Rule)) {
				continue
			}
			key := gateway.MaskKey(ev.Discriminator)
			a.raise(notify.Event{Kind: KindBan, Key: "ban:" + ev.Rule + ":" + ev.Discriminator, Severity: "warning",
				Title:  fmt.Sprintf("Ban started: %s for %s", ev.Rule, key),
				Text:   fmt.Sprintf("%d failures reached maxretry %d. Lift it with `wootguard bans unban --rule %s --key KEY`.", ev.Count, ev.Limit, ev.Rule),
				Fields: map[string]string{"rule": ev.Rule, "key": key}, Time: now})
		}
	}
	if u := c.Upstream; u != nil && rec.Forwarded && (rec.UpstreamError || rec.UpstreamStatus >= 500) {
		a.mu.Lock()
		fire := a.upstream.add(now, time.Duration(u.Span), u.Threshold)
		a.mu.Unlock()
		if fire {
			a.raise(notify.Event{Kind: KindUpstream, Key: "upstream", Severity: "critical",
				Title: fmt.Sprintf("Chatwoot failed more than %d requests within %s", u.Threshold, u.Span),
				Text:  "5xx answers or no answer at all from the upstream.", Time: now})
		}
	}
}

func isRefusal(d string) bool {
	return d == gateway.DecisionThrottle || d == gateway.DecisionBlock || d == gateway.DecisionBan
}

// raise queues an alert without ever blocking; a full queue drops it (and
// counts the loss, reported with the next delivery).
func (a *Alerter) raise(e notify.Event) {
	select {
	case a.queue <- e:
	default:
		a.dropped.Add(1)
	}
}

// Dropped reports how many alerts were lost to a full queue.
func (a *Alerter) Dropped() int64 { return a.dropped.Load() }

// Run delivers alerts and polls the store until ctx ends.
func (a *Alerter) Run(ctx context.Context) {
	tick := time.NewTicker(a.o.PollEvery)
	defer tick.Stop()
	var lastFallbacks int64 = -1
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-a.queue:
			a.deliver(ctx, e)
		case <-tick.C:
			if !a.o.Config.StoreFallback || a.o.Stats == nil {
				continue
			}
			st, ok := a.o.Stats()
			if !ok {
				continue
			}
			if (lastFallbacks >= 0 && st.Fallbacks > lastFallbacks) || !st.Healthy {
				a.deliver(ctx, notify.Event{Kind: KindStoreFallback, Key: "store", Severity: "critical",
					Title:  "The counter store is failing; the failure policy decides",
					Text:   st.Detail,
					Fields: map[string]string{"store": st.Kind, "fallbacks": strconv.FormatInt(st.Fallbacks, 10)}, Time: a.o.Now()})
			}
			lastFallbacks = st.Fallbacks
		}
	}
}

// deliver applies deduplication and the hourly limit, then sends e to
// every channel, each with its own retries.
func (a *Alerter) deliver(ctx context.Context, e notify.Event) {
	now := a.o.Now()
	if last, ok := a.lastSent[e.Key]; ok && now.Sub(last) < time.Duration(a.o.Config.MinInterval) {
		return
	}
	hourAgo := now.Add(-time.Hour)
	a.sent = slices.DeleteFunc(a.sent, func(t time.Time) bool { return t.Before(hourAgo) })
	if len(a.sent) >= a.o.Config.MaxPerHour {
		a.o.Logger.Warn("alert not sent: alerts.max_per_hour reached", "kind", e.Kind, "title", e.Title)
		return
	}
	a.lastSent[e.Key] = now
	a.sent = append(a.sent, now)
	if n := a.dropped.Swap(0); n > 0 {
		if e.Fields == nil {
			e.Fields = map[string]string{}
		}
		e.Fields["alerts_dropped"] = strconv.FormatInt(n, 10)
	}
	e.Key = "" // deduplicated here; a notify state file must not silence the next occurrence
	var wg sync.WaitGroup
	for _, ch := range a.o.Channels {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.sendWithRetry(ctx, ch, e)
		}()
	}
	wg.Wait()
}

func (a *Alerter) sendWithRetry(ctx context.Context, ch notify.Sender, e notify.Event) {
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, a.o.Timeout)
		err := ch.Send(actx, e)
		cancel()
		if err == nil {
			a.o.Logger.Info("alert sent", "kind", e.Kind, "title", e.Title)
			return
		}
		if attempt >= len(a.o.Backoff) || ctx.Err() != nil {
			a.o.Logger.Error("alert not delivered", "kind", e.Kind, "title", e.Title, "attempts", attempt+1, "err", err)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(a.o.Backoff[attempt]):
		}
	}
}
