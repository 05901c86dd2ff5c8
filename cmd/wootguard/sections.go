package main

import (
	"github.com/wootguard/wootguard/internal/backup"
	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/notify"
	"github.com/wootguard/wootguard/internal/release"
)

// The parts of wootguard.yaml that the update guardian reads, so that
// check-config checks the whole file. (updates.schedule and audit are
// registered by their commands.)
func init() {
	config.RegisterSection("updates.chatwoot_url", func() any { return new(string) })
	config.RegisterSection("updates.feeds", func() any { return &release.FeedsConfig{} })
	config.RegisterSection("updates.notify", func() any { return &notify.Config{} })
	config.RegisterSection("updates.backup", func() any { return &backup.Config{} })
}
