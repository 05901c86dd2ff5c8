package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLimitsDefaults(t *testing.T) {
	g, err := load(t, "listen: 127.0.0.1:8080\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	l := g.Limits
	if l.Connections != DefaultConnections || l.ConnectionsPerClient != DefaultConnectionsPerClient ||
		l.BufferedBodies != DefaultBufferedBodies || l.BufferedBodiesPerClient != DefaultBufferedBodiesPerClient ||
		int64(l.BodyMemory) != DefaultBodyMemory || int64(l.SmallBodySize) != DefaultSmallBodySize ||
		time.Duration(l.SmallBodyTimeout) != DefaultSmallBodyTimeout || !slices.Equal(l.WebsocketPaths, []string{"/cable"}) {
		t.Fatalf("defaults: %+v", l)
	}
}

func TestLimitsSet(t *testing.T) {
	g, err := load(t, "limits:\n  connections: 50\n  connections_per_client: 5\n  buffered_bodies: 10\n  buffered_bodies_per_client: 2\n"+
		"  body_memory: 1MiB\n  small_body_size: 8KiB\n  small_body_timeout: 5s\n  websocket_paths: []\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	l := g.Limits
	if l.Connections != 50 || l.ConnectionsPerClient != 5 || l.BufferedBodies != 10 || l.BufferedBodiesPerClient != 2 ||
		l.BodyMemory != 1<<20 || l.SmallBodySize != 8<<10 || time.Duration(l.SmallBodyTimeout) != 5*time.Second ||
		l.WebsocketPaths == nil || len(l.WebsocketPaths) != 0 {
		t.Fatalf("set: %+v", l)
	}
}

func TestLimitsErrorsNameFileAndLine(t *testing.T) {
	// All problems in one pass, each at its line.
	_, err := load(t, "limits:\n  connections: -1\n  buffered_bodies: 4\n  buffered_bodies_per_client: 8\n  body_memory: 1KiB\n"+
		"  small_body_timeout: -2s\n  websocket_paths: [cable]\n  conections: 3\n", nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`wootguard.yaml:8: unknown key "conections"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\nwant containing %q", err, want)
		}
	}
	_, err = load(t, "limits:\n  connections: -1\n  buffered_bodies: 4\n  buffered_bodies_per_client: 8\n  body_memory: 1KiB\n"+
		"  small_body_timeout: -2s\n  websocket_paths: [cable]\n", nil)
	for _, want := range []string{
		"wootguard.yaml:2: connections must be positive",
		"wootguard.yaml:4: buffered_bodies_per_client (8) is larger than buffered_bodies (4)",
		"wootguard.yaml:5: body_memory (1024 bytes) is smaller than body_limit (65536 bytes)",
		"wootguard.yaml:6: small_body_timeout must not be negative",
		`wootguard.yaml:7: bad path "cable"`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\nwant containing %q", err, want)
		}
	}
}
