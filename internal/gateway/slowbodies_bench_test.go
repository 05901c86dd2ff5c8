package gateway_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkSlowSignInBodies measures what N slow sign-in bodies (default
// 5,000; WOOTGUARD_SLOW_BODIES to change) hold in the gateway under the
// default limits: N connections from N clients behind the trusted proxy
// each send a login's headers and the first bytes of its body, then
// stall. It reports the growth of live Go memory (heap in use + stacks,
// including the benchmark's own client sockets) and of the process RSS.
// docs/hardening.md records the numbers. Run it alone:
//
//	go test ./internal/gateway -run '^$' -bench SlowSignInBodies -benchtime 1x
func BenchmarkSlowSignInBodies(b *testing.B) {
	n := 5000
	if s := os.Getenv("WOOTGUARD_SLOW_BODIES"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	for _, cl := range []int{200, 64 << 10} {
		b.Run(fmt.Sprintf("content-length=%d", cl), func(b *testing.B) {
			for range b.N {
				slowBodies(b, n, cl, "")
			}
		})
	}
	// For comparison: the caps raised out of the way (what the limits save).
	b.Run("content-length=65536,uncapped", func(b *testing.B) {
		for range b.N {
			slowBodies(b, n, 64<<10, "limits: {buffered_bodies: 1000000, buffered_bodies_per_client: 1000000, body_memory: 100000MiB}\n")
		}
	})
	// The same connections stalled in their headers (slowloris), which
	// only server.read_header_timeout ends.
	b.Run("headers-only", func(b *testing.B) {
		for range b.N {
			slowBodies(b, n, 0, "")
		}
	})
}

func slowBodies(b *testing.B, n, cl int, limits string) {
	h := newHostile(b, okHandler(), trustLocal+"server: {read_header_timeout: 30s}\n"+limits)
	heap0, rss0 := liveMemory()
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range n {
		c, err := net.DialTimeout("tcp", h.addr, 5*time.Second)
		if err != nil {
			b.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
		xff := fmt.Sprintf("198.18.%d.%d", i/250, 1+i%250)
		if cl == 0 {
			io.WriteString(c, "POST /auth/sign_in HTTP/1.1\r\nHost: chat.example\r\nX-Forwarded-For: "+xff+"\r\n")
		} else {
			io.WriteString(c, signInHead(xff, strconv.Itoa(cl), "")+`{"email":`)
		}
	}
	// Wait until every body is either being buffered or refused.
	settled := func() (admitted, refused int64) {
		if cl == 0 {
			return h.conns.Open(), 0
		}
		r := h.gw.Refused()
		return h.gw.BodyMemoryInUse() / int64(cl), int64(r.BufferedBodies + r.BodyMemory + r.BufferedBodiesPerClient)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		a, r := settled()
		if a+r >= int64(n) {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("after 15s: %d bodies buffering, %d refused of %d", a, r, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	heap1, rss1 := liveMemory()
	admitted, refused := settled()
	b.ReportMetric(float64(heap1-heap0)/(1<<20), "live-MB")
	b.ReportMetric(float64(rss1-rss0)/(1<<20), "rss-MB")
	b.ReportMetric(float64(admitted), "buffering")
	b.ReportMetric(float64(refused), "refused")
	b.ReportMetric(float64(h.gw.BodyMemoryInUse())/(1<<20), "body-MB")
	h.stillServes("203.0.113.1")
}

// liveMemory returns the bytes of heap in use plus stacks after a GC, and
// the process's resident set size.
func liveMemory() (live, rss int64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	live = int64(ms.HeapInuse + ms.StackInuse)
	if data, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				rss = kb << 10
			}
		}
	}
	return live, rss
}
