package replay

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// startProgress writes a progress line to w every 250ms until stop is
// called (w nil: nothing). With the logs' total size known it shows a bar
// and an ETA; reading stdin it shows the count and rate.
func startProgress(w io.Writer, st *readStats) (stop func()) {
	if w == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	start := time.Now()
	go func() {
		defer wg.Done()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-tick.C:
				fmt.Fprint(w, "\r\033[K"+progressLine(st.lines.Load(), st.bytesRead.Load(), st.bytesTotal, time.Since(start)))
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}

func progressLine(lines, read, total int64, elapsed time.Duration) string {
	rate := float64(lines) / max(elapsed.Seconds(), 0.001)
	s := fmt.Sprintf("%s lines  %s lines/s", human(float64(lines)), human(rate))
	if total <= 0 {
		return "replay: " + s
	}
	frac := min(float64(read)/float64(total), 1)
	const width = 30
	bar := strings.Repeat("#", int(frac*width)) + strings.Repeat("-", width-int(frac*width))
	eta := "?"
	if frac > 0 {
		eta = (time.Duration(elapsed.Seconds()*(1-frac)/frac) * time.Second).Round(time.Second).String()
	}
	return fmt.Sprintf("replay [%s] %3.0f%%  %s  ETA %s", bar, frac*100, s, eta)
}

func human(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}
