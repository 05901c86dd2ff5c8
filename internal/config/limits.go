package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/rules"
)

// Limits bound what slow or numerous clients can hold in the gateway
// (connections, bodies being buffered for the rules). Absent or 0 means
// the default; see docs/hardening.md.
type Limits struct {
	// Connections is the number of open client connections in total;
	// more are answered 503 and closed at once.
	Connections int `yaml:"connections"`
	// ConnectionsPerClient caps the open connections of one direct
	// client and the requests in flight of one resolved client (429).
	// Trusted proxies' own addresses are never capped.
	ConnectionsPerClient int `yaml:"connections_per_client"`
	// BufferedBodies caps bodies being read for the rules at once (503).
	BufferedBodies int `yaml:"buffered_bodies"`
	// BufferedBodiesPerClient is that cap for one resolved client (429).
	BufferedBodiesPerClient int `yaml:"buffered_bodies_per_client"`
	// BodyMemory is the memory all buffered bodies may hold together,
	// counted by their declared length (503 beyond it).
	BodyMemory ByteSize `yaml:"body_memory"`
	// SmallBodySize and SmallBodyTimeout: a buffered body of at most
	// SmallBodySize must arrive within SmallBodyTimeout (408 otherwise).
	SmallBodySize    ByteSize       `yaml:"small_body_size"`
	SmallBodyTimeout rules.Duration `yaml:"small_body_timeout"`
	// WebsocketPaths are the paths where an "Upgrade: websocket" request
	// is forwarded as one; every other upgrade (h2c included) is dropped
	// and the request forwarded as plain HTTP/1.1. Absent: [/cable],
	// Chatwoot's ActionCable. [] forwards none.
	WebsocketPaths []string `yaml:"websocket_paths"`
}

// Defaults of limits: generous for a Chatwoot behind nginx, where every
// connection comes from the (trusted) proxy and bodies arrive in one piece.
const (
	DefaultConnections             = 10_000
	DefaultConnectionsPerClient    = 512
	DefaultBufferedBodies          = 1024
	DefaultBufferedBodiesPerClient = 16
	DefaultBodyMemory              = 16 << 20
	DefaultSmallBodySize           = 64 << 10
	DefaultSmallBodyTimeout        = 20 * time.Second
)

// DefaultWebsocketPaths is where Chatwoot's ActionCable listens.
var DefaultWebsocketPaths = []string{"/cable"}

// checkLimits defaults g.Limits from the file and reports bad values.
func (g *Gateway) checkLimits(f *File, at func(key, format string, args ...any)) {
	l := f.Limits
	ints := []struct {
		key string
		v   *int
		def int
	}{
		{"connections", &l.Connections, DefaultConnections},
		{"connections_per_client", &l.ConnectionsPerClient, DefaultConnectionsPerClient},
		{"buffered_bodies", &l.BufferedBodies, DefaultBufferedBodies},
		{"buffered_bodies_per_client", &l.BufferedBodiesPerClient, DefaultBufferedBodiesPerClient},
	}
	for _, n := range ints {
		switch {
		case *n.v < 0:
			at("limits."+n.key, "%s must be positive (0 or absent: the default, %d)", n.key, n.def)
		case *n.v == 0:
			*n.v = n.def
		}
	}
	sizes := []struct {
		key string
		v   *ByteSize
		def int64
	}{
		{"body_memory", &l.BodyMemory, DefaultBodyMemory},
		{"small_body_size", &l.SmallBodySize, DefaultSmallBodySize},
	}
	for _, s := range sizes {
		switch {
		case *s.v < 0:
			at("limits."+s.key, "%s must be positive", s.key)
		case *s.v == 0:
			*s.v = ByteSize(s.def)
		}
	}
	switch {
	case l.SmallBodyTimeout < 0:
		at("limits.small_body_timeout", "small_body_timeout must not be negative")
	case l.SmallBodyTimeout == 0:
		l.SmallBodyTimeout = rules.Duration(DefaultSmallBodyTimeout)
	}
	if l.BufferedBodiesPerClient > l.BufferedBodies && f.Limits.BufferedBodies != 0 {
		at("limits.buffered_bodies_per_client", "buffered_bodies_per_client (%d) is larger than buffered_bodies (%d)", l.BufferedBodiesPerClient, l.BufferedBodies)
	}
	if int64(l.BodyMemory) < g.BodyLimit {
		at("limits.body_memory", "body_memory (%d bytes) is smaller than body_limit (%d bytes): a body of the allowed size could never be read", l.BodyMemory, g.BodyLimit)
	}
	if l.WebsocketPaths == nil {
		l.WebsocketPaths = DefaultWebsocketPaths
	}
	for i, p := range l.WebsocketPaths {
		if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?# ") {
			at(fmt.Sprintf("limits.websocket_paths[%d]", i), "bad path %q: want an absolute path like /cable", p)
		}
	}
	g.Limits = l
}
