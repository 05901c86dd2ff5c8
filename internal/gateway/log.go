package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/wootguard/wootguard/internal/rules"
)

// logDecision writes the one line for a block or throttle.
func logDecision(l *slog.Logger, d rules.Decision, client netip.Addr, r *http.Request) {
	msg := "blocked"
	if d.Action == rules.ActionThrottle {
		msg = "throttled"
	}
	attrs := []any{"rule", d.Rule, "type", d.Type, "client_ip", clientLabel(client), "method", r.Method, "path", r.URL.Path}
	if d.Discriminator != "" {
		attrs = append(attrs, "key", MaskKey(d.Discriminator))
	}
	if d.Limit > 0 || d.Count > 0 {
		attrs = append(attrs, "count", d.Count, "limit", d.Limit)
	}
	if d.RetryAfter > 0 {
		attrs = append(attrs, "retry_after", d.RetryAfter)
	}
	l.Warn(msg, attrs...)
}

// logEvent writes a line for a rule hit that did not decide the request.
func logEvent(l *slog.Logger, ev rules.Event, client netip.Addr, r *http.Request) {
	msg := ev.Type + " matched"
	level := slog.LevelInfo
	switch {
	case ev.BanStarted && ev.DryRun:
		msg, level = "dry-run: would ban", slog.LevelWarn
	case ev.BanStarted:
		msg, level = "ban started", slog.LevelWarn
	case ev.DryRun:
		msg = "dry-run: " + ev.Type + " would act"
	case ev.Type == "track" && ev.Limit >= 0:
		msg = "track over limit"
	}
	attrs := []any{"rule", ev.Rule, "type", ev.Type, "client_ip", clientLabel(client), "method", r.Method, "path", r.URL.Path}
	if ev.Discriminator != "" {
		attrs = append(attrs, "key", MaskKey(ev.Discriminator))
	}
	if ev.Limit >= 0 && (ev.Count > 0 || ev.Limit > 0) {
		attrs = append(attrs, "count", ev.Count, "limit", ev.Limit)
	}
	if ev.DryRun {
		attrs = append(attrs, "dry_run", true)
	}
	l.Log(context.Background(), level, msg, attrs...)
}

// MaskKey hides secrets in a rule key for logs: IP addresses and numbers
// stay readable; emails keep their first letter and domain; anything else
// (tokens) keeps its first 5 characters, as Chatwoot's own log does.
func MaskKey(key string) string {
	parts := strings.Split(key, ":")
	var out []string
	for i := 0; i < len(parts); {
		// An IPv6 address spans several ":"-parts: keep the longest run
		// that parses as an address.
		n := 1
		for j := len(parts); j > i+1; j-- {
			if _, err := netip.ParseAddr(strings.Join(parts[i:j], ":")); err == nil {
				n = j - i
				break
			}
		}
		if n > 1 {
			out = append(out, strings.Join(parts[i:i+n], ":"))
		} else {
			out = append(out, maskPart(parts[i]))
		}
		i += n
	}
	return strings.Join(out, ":")
}

func maskPart(p string) string {
	if p == "" || isDigits(p) || p == rules.UnknownClientKey {
		return p
	}
	if _, err := netip.ParseAddr(p); err == nil {
		return p
	}
	if at := strings.LastIndexByte(p, '@'); at > 0 {
		_, n := utf8.DecodeRuneInString(p)
		return p[:n] + "***" + truncate(p[at:], 64)
	}
	if utf8.RuneCountInString(p) <= 5 {
		return "*****"
	}
	return truncate(p, 5) + "...[REDACTED]"
}

// truncate keeps the first n runes of s.
func truncate(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
