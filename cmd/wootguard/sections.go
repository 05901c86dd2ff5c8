package main

import (
	"time"

	"github.com/wootguard/wootguard/internal/backup"
	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/notify"
	"github.com/wootguard/wootguard/internal/release"
	"github.com/wootguard/wootguard/internal/rollout"
	"github.com/wootguard/wootguard/internal/smoke"
)

// The parts of wootguard.yaml that the update guardian reads, so that
// check-config checks the whole file. (updates.schedule and audit are
// registered by their commands.)
func init() {
	config.RegisterSection("updates.chatwoot_url", func() any { return new(chatwootURL) })
	config.RegisterSection("updates.feeds", func() any { return &release.FeedsConfig{} })
	config.RegisterSection("updates.notify", func() any { return &notify.Config{} })
	config.RegisterSection("updates.backup", func() any { return &backup.Config{} })
	config.RegisterSection("updates.targets", func() any { return &rollout.Targets{} })
	config.RegisterSection("updates.smoke", func() any { return &smoke.Config{} })
	config.RegisterSection("updates.soak", func() any { return new(time.Duration) })
	config.RegisterSection("updates.state_dir", func() any { return new(string) })
	config.RegisterSection("updates.min_free_disk", func() any { return new(rollout.ByteSize) })
}

// chatwootURL is updates.chatwoot_url: the running Chatwoot that
// 'updates status' asks for its version.
type chatwootURL string

func (u chatwootURL) ConfigProblems() []config.Problem {
	if _, err := config.ParseUpstream(string(u)); u != "" && err != nil {
		return []config.Problem{config.Problemf("", "updates.chatwoot_url %q: want the URL users open, with its scheme (https://chat.example.com)", string(u))}
	}
	return nil
}
