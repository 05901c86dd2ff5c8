package testsvc

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// Browser starts a real headless Chromium (the one ./scripts/test installs,
// named by WOOTGUARD_TEST_CHROMIUM) for one test and returns a chromedp
// context bound to a new tab. The browser stops when the test ends. The
// flags keep it off the network: this machine reaches nothing outside
// loopback, and background services would only log refused connections.
//
// chromedp v0.23's API is generic: chromedp.Do(ctx, steps...) runs actions
// without a value, v, err := chromedp.Run(ctx, chromedp.Text("#id")) one
// with a value; png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90)).
// Limit one step with context.WithTimeout(ctx, ...), never the whole ctx.
func Browser(t testing.TB) context.Context {
	t.Helper()
	path := Env(t, "WOOTGUARD_TEST_CHROMIUM", "headless Chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // tests run as root
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	// Start the browser now (without a deadline: the first call's context
	// lives as long as the browser), so that a failure names itself.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	return ctx
}

// Artifact returns a path for a file a test wants a person to look at
// (a screenshot): under WOOTGUARD_TEST_ARTIFACTS when set, else in the
// test's temporary directory. The path is logged.
func Artifact(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv("WOOTGUARD_TEST_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	p := filepath.Join(dir, name)
	t.Logf("artifact: %s", p)
	return p
}
