package replay

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// writeBenchLog writes n lines of mixed Chatwoot traffic over a day: API
// reads from 5,000 clients, sign-ins (a brute force among them), widget
// loads and background noise.
func writeBenchLog(tb testing.TB, n int) string {
	path := filepath.Join(tb.TempDir(), "access.log")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < n; i++ {
		ts := time.Unix(t0+int64(i)*86400/int64(n), 0).UTC().Format("02/Jan/2006:15:04:05 -0700")
		ip := fmt.Sprintf("100.%d.%d.%d", 64+rnd.IntN(4), rnd.IntN(50), rnd.IntN(25)+1)
		method, uri, status := "GET", fmt.Sprintf("/api/v1/accounts/%d/conversations?page=%d", rnd.IntN(20)+1, rnd.IntN(5)+1), 200
		switch r := rnd.IntN(100); {
		case r < 3:
			method, uri, status = "POST", "/auth/sign_in", 200
		case r < 5:
			ip, method, uri, status = "203.0.113.50", "POST", "/auth/sign_in", 401
		case r < 15:
			uri = "/widget?website_token=tok" + fmt.Sprint(rnd.IntN(10))
		case r < 25:
			uri = "/packs/js/application.js"
		}
		fmt.Fprintf(w, "%s - - [%s] \"%s %s HTTP/1.1\" %d 512 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"\n", ip, ts, method, uri, status)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	return path
}

// BenchmarkReplay replays a generated log through the full Chatwoot
// preset. WOOTGUARD_BENCH_LINES sets its size (default 100,000); the
// README's number is for 1,000,000:
//
//	WOOTGUARD_BENCH_LINES=1000000 go test -run x -bench Replay -benchtime 1x ./internal/replay/
func BenchmarkReplay(b *testing.B) {
	n := 100_000
	if s := os.Getenv("WOOTGUARD_BENCH_LINES"); s != "" {
		fmt.Sscan(s, &n)
	}
	path := writeBenchLog(b, n)
	cfg := loadConfig(b, "preset: chatwoot\n")
	b.ResetTimer()
	var peak uint64
	for i := 0; i < b.N; i++ {
		rep, err := Run(context.Background(), []Config{cfg}, []Source{{Name: path}}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Requests != int64(n) {
			b.Fatalf("%d requests, want %d", rep.Requests, n)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(float64(peak)/(1<<20), "MiB-heap-in-use")
}
