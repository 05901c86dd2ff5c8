package admin_test

import (
	"testing"
	"time"

	"github.com/wootguard/wootguard/internal/admin"
	"github.com/wootguard/wootguard/internal/rules"
	"github.com/wootguard/wootguard/internal/store/redis"
	"github.com/wootguard/wootguard/internal/store/redis/redistest"
)

// The admin API on the Redis store: explain peeks there, the ban is
// listed (with its start) and lifting it lets the client through.
func TestBansAndExplainOnRedis(t *testing.T) {
	srv := redistest.Start(t)
	st, err := redis.New(redis.Options{Client: srv.Client(), Prefix: "wootguard", Timeout: time.Second, OnError: redis.OnErrorDeny, Detail: srv.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := newRigOn(t, st)
	const ip = "192.0.2.66"
	for i := 0; i < 3; i++ {
		if c := r.send("POST", "/auth/sign_in", ip, "email=a@b.c&password=x"); c != 401 {
			t.Fatalf("failure %d: %d", i, c)
		}
	}
	var x rules.Explanation
	if c := r.api("POST", "/api/explain", token, `{"method":"GET","path":"/after","client_ip":"`+ip+`"}`, &x); c != 200 || x.Action != "block" || x.Rule != "login-failures" {
		t.Fatalf("explain: %d %+v", c, x)
	}
	var list struct{ Bans []admin.Ban }
	r.api("GET", "/api/bans", token, "", &list)
	if len(list.Bans) != 1 || list.Bans[0].Rule != "login-failures" || list.Bans[0].Key != ip || list.Bans[0].SecondsLeft < 3590 || list.Bans[0].Since.IsZero() {
		t.Fatalf("bans %+v", list.Bans)
	}
	var del map[string]any
	if c := r.api("DELETE", "/api/bans?rule=login-failures&key="+ip, token, "", &del); c != 200 || del["removed"] != true {
		t.Fatalf("unban: %d %v", c, del)
	}
	if c := r.send("GET", "/after", ip, ""); c != 200 {
		t.Fatalf("after unban: %d", c)
	}
}
