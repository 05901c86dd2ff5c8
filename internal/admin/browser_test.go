package admin_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wootguard/wootguard/internal/testsvc"
)

// The dashboard in a real headless Chromium: sign in with the token, see a
// brute-force burst through the gateway become a ban, lift it with the
// button, and the client passes again.
func TestDashboardShowsAndLiftsABan(t *testing.T) {
	ctx := testsvc.Browser(t)
	r := newRig(t)
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	step("load", chromedp.Navigate(r.admin.URL+"/"), chromedp.WaitVisible("#login"))
	step("wrong token", chromedp.SendKeys("#token", "wrong"), chromedp.Click("#login button"), chromedp.WaitVisible("#login-error"))
	step("sign in", chromedp.SendKeys("#token", token), chromedp.Click("#login button"), chromedp.WaitVisible("#dashboard"),
		chromedp.WaitVisible(`#rules tbody tr`))
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string]("location.href"))
	if err != nil || strings.Contains(href, token) {
		t.Fatalf("the token is in the URL %q (%v)", href, err)
	}

	// Traffic for the chart, then a brute-force burst: three failed logins
	// ban the address.
	for i := 0; i < 4; i++ {
		r.send("GET", "/conversations", "198.51.100.20", "")
	}
	for i := 0; i < 9; i++ {
		r.send("GET", "/poll", "198.51.100.21", "")
	}
	for i := 0; i < 3; i++ {
		r.send("POST", "/auth/sign_in", "192.0.2.66", "email=victim@example.com&password=guess")
	}
	if c := r.send("GET", "/app", "192.0.2.66", ""); c != 403 {
		t.Fatalf("the burst did not ban: %d", c)
	}
	banRow := `#bans tbody tr[data-key="192.0.2.66"]`
	step("ban appears", chromedp.WaitVisible(banRow), chromedp.WaitVisible(`#recent tbody tr`), chromedp.WaitVisible(`#top tbody tr`))
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(testsvc.Artifact(t, "dashboard.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	step("unban", chromedp.Click(banRow+" button.unban"), chromedp.WaitNotPresent(banRow), chromedp.WaitVisible("#bans-empty"))
	if c := r.send("GET", "/app", "192.0.2.66", ""); c != 200 {
		t.Fatalf("after unban in the dashboard the client got %d", c)
	}
	stored, err := chromedp.Run(ctx, chromedp.Evaluate[string]("sessionStorage.getItem('wootguard-admin-token')"))
	if err != nil || stored != token {
		t.Fatalf("token in sessionStorage: %q %v", stored, err)
	}
}
