package main

import (
	"log/slog"
	"strings"

	"github.com/wootguard/wootguard/internal/preset"
)

// logConfigWarning logs a config warning; one that says an environment
// value switched preset rules off is an error, so nobody misses it.
func logConfigWarning(log *slog.Logger, w string) {
	if strings.HasPrefix(w, preset.RulesOff) {
		log.Error("config: " + w)
		return
	}
	log.Warn("config: " + w)
}
