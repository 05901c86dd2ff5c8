package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// serveFast runs h on a loopback listener until the test ends.
func serveFast(t *testing.T, h fasthttp.RequestHandler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := fastHTTPServer(h)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })
	return "http://" + ln.Addr().String()
}

// answer is a response as the benchmark compares it: status, header lines
// without Date (sorted, as the two servers order them differently), body.
func answer(t *testing.T, url string) (int, []string, string) {
	t.Helper()
	resp, err := http.Get(url + "/api/v1/accounts/1/conversations?page=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for k, vs := range resp.Header {
		if k != "Date" {
			lines = append(lines, k+": "+strings.Join(vs, ", "))
		}
	}
	slices.Sort(lines)
	return resp.StatusCode, lines, string(body)
}

func TestFastHTTP429AnswersAsNetHTTP429(t *testing.T) {
	n := httptest.NewServer(netHTTP429("").Handler)
	defer n.Close()
	f := serveFast(t, fastHTTP429)
	ns, nh, nb := answer(t, n.URL)
	fs, fh, fb := answer(t, f)
	if ns != 429 || fs != ns || !slices.Equal(fh, nh) || fb != nb {
		t.Errorf("fasthttp %d %q %q, net/http %d %q %q", fs, fh, fb, ns, nh, nb)
	}
}

func TestFastHTTPProxyForwards(t *testing.T) {
	type seen struct{ method, uri, xff, keepAlive, custom, body string }
	got := make(chan seen, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.RequestURI, r.Header.Get("X-Forwarded-For"), r.Header.Get("Keep-Alive"), r.Header.Get("X-Custom"), string(b)}
		w.Header().Set("X-Answer", "yes")
		w.WriteHeader(201)
		io.WriteString(w, "made")
	}))
	defer up.Close()
	proxy := serveFast(t, fastHTTPProxy(strings.TrimPrefix(up.URL, "http://")))

	tests := []struct {
		name, method, path, xff, body string
		want                          seen
	}{
		{"get with query", "GET", "/a/b?page=1&x=%2F", "", "",
			seen{"GET", "/a/b?page=1&x=%2F", "127.0.0.1", "", "kept", ""}},
		{"post with body and a prior X-Forwarded-For", "POST", "/auth/sign_in", "203.0.113.7", `{"email":"a@b"}`,
			seen{"POST", "/auth/sign_in", "203.0.113.7, 127.0.0.1", "", "kept", `{"email":"a@b"}`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, proxy+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Custom", "kept")
			req.Header.Set("Keep-Alive", "timeout=5") // hop-by-hop: must not reach the upstream
			if tc.xff != "" {
				req.Header.Set("X-Forwarded-For", tc.xff)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 201 || resp.Header.Get("X-Answer") != "yes" || string(b) != "made" {
				t.Errorf("answer %d %q %q, want 201 X-Answer: yes, made", resp.StatusCode, resp.Header.Get("X-Answer"), b)
			}
			if s := <-got; s != tc.want {
				t.Errorf("upstream saw %+v, want %+v", s, tc.want)
			}
		})
	}
}
