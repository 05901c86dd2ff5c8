package testsvc

import (
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/chromedp/chromedp"
)

// The browser helper really renders a page served on loopback, runs its
// script and takes a screenshot.
func TestBrowserRendersLocalPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><title>t</title><p id="out">static</p><script>document.getElementById("out").textContent = "from script"</script>`))
	}))
	defer srv.Close()
	ctx := Browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL), chromedp.WaitVisible("#out")); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Text("#out"))
	if err != nil {
		t.Fatal(err)
	}
	if got != "from script" {
		t.Fatalf("text %q, want the script's", got)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	if err != nil {
		t.Fatal(err)
	}
	if len(png) < 100 {
		t.Fatalf("screenshot of %d bytes", len(png))
	}
	if err := os.WriteFile(Artifact(t, "testsvc-browser.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
