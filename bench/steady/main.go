// Command steady is bench/run's legitimate client for scenario (c): it
// sends GETs at a fixed rate (not as fast as it can, as wrk does) and
// measures each request's latency from when it was due to be sent, so a
// request that waits for a free connection behind slow answers counts its
// wait (no coordinated omission). It prints wrk's summary lines, so bench/run reads both alike.
//
//	go run ./bench/steady -url http://127.0.0.1:19083/api/v1/accounts/1/conversations \
//	    -rate 200 -conns 4 -d 5s -H 'X-Forwarded-For: 203.0.113.7'
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(v string) error { *h = append(*h, v); return nil }

func main() {
	url := flag.String("url", "", "URL to GET")
	rate := flag.Int("rate", 200, "requests per second")
	conns := flag.Int("conns", 4, "connections (requests in flight at most)")
	dur := flag.Duration("d", 5*time.Second, "how long to send")
	var hs headers
	flag.Var(&hs, "H", "header 'Name: value' (repeatable)")
	flag.Parse()
	if *url == "" || *rate <= 0 || *conns <= 0 || *dur <= 0 {
		fmt.Fprintln(os.Stderr, "steady: -url, and positive -rate, -conns and -d, are needed")
		os.Exit(2)
	}
	hdr := http.Header{}
	for _, h := range hs {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			fmt.Fprintf(os.Stderr, "steady: bad -H %q, want 'Name: value'\n", h)
			os.Exit(2)
		}
		hdr.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: *conns, MaxConnsPerHost: *conns, DisableCompression: true}}

	due := make(chan time.Time, *rate) // a second of backlog at most
	var mu sync.Mutex
	var lat []time.Duration
	var failed, non2xx int
	var wg sync.WaitGroup
	for range *conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for at := range due {
				status, err := get(client, *url, hdr)
				d := time.Since(at)
				mu.Lock()
				switch {
				case err != nil:
					failed++
				case status < 200 || status > 399:
					non2xx++
					lat = append(lat, d)
				default:
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	start := time.Now()
	every := time.Second / time.Duration(*rate)
	for i := 0; ; i++ {
		at := start.Add(time.Duration(i) * every)
		if at.Sub(start) >= *dur {
			break
		}
		time.Sleep(time.Until(at))
		// From when the sender woke (its own sleep's overshoot is not the
		// server's), and that moment is taken before the hand-off, which
		// blocks while every connection is busy: that wait is measured.
		due <- time.Now()
	}
	close(due)
	wg.Wait()
	elapsed := time.Since(start)

	slices.Sort(lat)
	fmt.Printf("  %d requests in %.2fs, steady %d req/s over %d connections\n", len(lat), elapsed.Seconds(), *rate, *conns)
	fmt.Printf("Requests/sec: %.2f\n", float64(len(lat))/elapsed.Seconds())
	for _, p := range []struct {
		label string
		q     float64
	}{{"50%", 0.50}, {"99%", 0.99}, {"99.900%", 0.999}} {
		fmt.Printf("  %s  %.2fus\n", p.label, float64(percentile(lat, p.q))/float64(time.Microsecond))
	}
	if non2xx > 0 {
		fmt.Printf("Non-2xx or 3xx responses: %d\n", non2xx)
	}
	if failed > 0 {
		fmt.Printf("Socket errors: %d failed\n", failed)
	}
}

func get(c *http.Client, url string, h http.Header) (int, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return 0, err
	}
	req.Header = h.Clone()
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// percentile is the q-quantile of sorted (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
