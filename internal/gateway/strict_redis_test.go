package gateway_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/wootguard/wootguard/internal/preset"
	"github.com/wootguard/wootguard/internal/store/redis/redistest"
)

// The strict profile on the Redis store, through the gateway: the
// failed-login ban (trust and escalation ops, run in the Lua script)
// spares the address the user signed in from and doubles on the next ban.
func TestStrictFailedLoginBanOnRedis(t *testing.T) {
	srv := redistest.Start(t)
	t.Setenv(rigRedisEnv, srv.Addr()) // newRig counts in this Redis
	r := newRig(t, strictEnforced, nil)
	const home, email = "203.0.113.5", "victim@example.com"
	login := func(ip, status string) req {
		return req{method: "POST", path: "/auth/sign_in", ip: ip, json: fmt.Sprintf(`{"email":%q,"password":"x"}`, email), status: status}
	}
	if got := r.do(login(home, "200")).StatusCode; got != 200 {
		t.Fatalf("first sign-in %d", got)
	}
	guess := 0
	try := func(want int, retryAfter string) {
		t.Helper()
		guess++
		resp := r.do(login(fmt.Sprintf("198.51.%d.%d", 100+guess/200, guess%200+1), "401"))
		if resp.StatusCode != want || resp.Header.Get("Retry-After") != retryAfter {
			t.Fatalf("guess %d: %d Retry-After %q, want %d %q", guess, resp.StatusCode, resp.Header.Get("Retry-After"), want, retryAfter)
		}
	}
	// Ten failures ban the email (Chatwoot's own login/email refuses the
	// tenth attempt of the first 15 minutes, the home sign-in included).
	for range 9 {
		try(401, "")
	}
	try(429, "900")
	r.clock.add(900)
	try(401, "")
	try(403, "3600")
	if got := r.do(login(home, "200")).StatusCode; got != 200 {
		t.Fatalf("the real user from the known address during the ban: %d, want 200", got)
	}
	// The next ban, within bantime_increment.remember, lasts twice as long.
	r.clock.add(3600 + 900)
	for range 9 {
		try(401, "")
	}
	try(401, "")
	try(403, "7200")
	r.clock.add(900) // past Chatwoot's own login/email window, within the ban
	if got := r.do(login(home, "200")).StatusCode; got != 200 {
		t.Fatalf("the known address during the second ban: %d, want 200", got)
	}
	ctx := context.Background()
	for _, ns := range []string{"fail2ban:history:", "fail2ban:trust:"} {
		keys, err := srv.Client().Keys(ctx, "*"+ns+preset.StrictLoginFailures+"*").Result()
		if err != nil || len(keys) != 1 {
			t.Fatalf("redis keys %s*: %v %v, want one", ns, keys, err)
		}
	}
	if n := r.store.Stats().Keys; n != 0 {
		t.Fatalf("the memory store holds %d keys: the rig did not count in Redis", n)
	}
}
