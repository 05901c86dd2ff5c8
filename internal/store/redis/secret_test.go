package redis_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/wootguard/wootguard/internal/store/redis"
	"github.com/wootguard/wootguard/internal/store/redis/redistest"
)

// Every gateway on one Redis gets the first stored secret; a gateway
// keeps it while Redis is away (a reload then must not switch every
// token's counters to another secret).
func TestSharedSecretIsFirstStoredAndKept(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	a, b := open(t, srv, redis.Options{}), open(t, srv, redis.Options{})
	sa, err := a.SharedSecret(ctx, []byte("secret-of-gateway-a"))
	if err != nil || string(sa) != "secret-of-gateway-a" {
		t.Fatalf("first: %q %v", sa, err)
	}
	if sb, err := b.SharedSecret(ctx, []byte("secret-of-gateway-b")); err != nil || !bytes.Equal(sb, sa) {
		t.Fatalf("second gateway: %q %v, want %q", sb, err, sa)
	}
	srv.Stop()
	if s, err := a.SharedSecret(ctx, []byte("another")); err != nil || !bytes.Equal(s, sa) {
		t.Fatalf("with Redis down: %q %v, want the secret already read", s, err)
	}
}
