// Package notify delivers operator notifications (webhook, Slack, email)
// for the update guardian: new releases, new advisories, update stages.
package notify

import (
	"context"
	"time"
)

// Event is one thing an operator should hear about.
type Event struct {
	// Kind is a stable dotted name: "release.new", "advisory.new",
	// "update.started", "update.backup_verified", "update.staging_ok",
	// "update.done", "update.failed", "update.rolled_back", ...
	Kind string `json:"kind"`
	// Key identifies the event for at-most-once delivery (for example
	// "advisory.new:GHSA-9pgm-75gg-6948"). Empty means "always send".
	Key      string            `json:"key,omitempty"`
	Severity string            `json:"severity"` // info | warning | critical
	Title    string            `json:"title"`
	Text     string            `json:"text,omitempty"`
	Fields   map[string]string `json:"fields,omitempty"`
	Time     time.Time         `json:"time"`
}

// Sender delivers an event to one channel.
type Sender interface {
	Send(ctx context.Context, e Event) error
}
