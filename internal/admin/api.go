package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/gateway"
	"github.com/wootguard/wootguard/internal/rules"
)

// Ban is one ban in force, as the API lists it.
type Ban struct {
	Rule        string    `json:"rule"`
	Type        string    `json:"type"` // fail2ban | allow2ban
	Key         string    `json:"key"`  // as stored: raw addresses and emails, hashed secrets
	Since       time.Time `json:"since,omitzero"`
	Expires     time.Time `json:"expires"`
	SecondsLeft int64     `json:"seconds_left"`
}

var errNoInspector = errors.New("this store cannot show or change its state")

// Bans lists the bans in force, newest first.
func (s *Server) Bans(ctx context.Context) ([]Ban, error) {
	in, ok := s.inspector()
	if !ok {
		return nil, errNoInspector
	}
	eng := s.engine()
	now := s.o.Now()
	raw, err := in.Bans(ctx, now, eng.BanPrefix())
	if err != nil {
		return nil, err
	}
	out := []Ban{}
	for _, b := range raw {
		rule, typ, key, ok := eng.ParseBanKey(b.Key)
		if !ok {
			continue // a rule that is no longer configured
		}
		out = append(out, Ban{Rule: rule, Type: typ, Key: key, Since: b.Since.UTC(), Expires: b.Expires.UTC(),
			SecondsLeft: int64((b.Expires.Sub(now) + time.Second - 1) / time.Second)})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Since.Equal(out[j].Since) {
			return out[i].Since.After(out[j].Since)
		}
		return out[i].Rule+out[i].Key < out[j].Rule+out[j].Key
	})
	return out, nil
}

// BansByRule counts the bans in force per rule (for the metrics).
func (s *Server) BansByRule() map[string]int {
	bans, err := s.Bans(context.Background())
	if err != nil {
		return nil
	}
	m := map[string]int{}
	for _, name := range s.engine().BanRuleNames() {
		m[name] = 0
	}
	for _, b := range bans {
		m[b.Rule]++
	}
	return m
}

func (s *Server) listBans(w http.ResponseWriter, r *http.Request) {
	bans, err := s.Bans(r.Context())
	if err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"bans": bans})
}

// ruleAndKey reads rule and key from the query, or from a JSON or form
// body (rule names and IPv6 prefixes contain "/", so never from the path).
func ruleAndKey(r *http.Request) (rule, key string, err error) {
	q := r.URL.Query()
	rule, key = q.Get("rule"), q.Get("key")
	if rule == "" && r.Body != nil {
		var body struct{ Rule, Key string }
		data, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || (len(data) > 0 && data[0] == '{') {
			if err := json.Unmarshal(data, &body); err != nil {
				return "", "", errors.New("bad JSON body: " + err.Error())
			}
			rule, key = body.Rule, body.Key
		} else if v, err := url.ParseQuery(string(data)); err == nil {
			rule, key = v.Get("rule"), v.Get("key")
		}
	}
	if rule == "" || key == "" {
		return "", "", errors.New("rule and key are required (query ?rule=RULE&key=KEY)")
	}
	return rule, key, nil
}

func (s *Server) unban(w http.ResponseWriter, r *http.Request) {
	rule, key, err := ruleAndKey(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	banKey, ok := s.engine().BanKey(rule, key)
	if !ok {
		writeError(w, http.StatusNotFound, "no fail2ban or allow2ban rule named "+strconv.Quote(rule))
		return
	}
	in, ok := s.inspector()
	if !ok {
		writeError(w, http.StatusNotImplemented, errNoInspector.Error())
		return
	}
	n, err := in.Delete(r.Context(), banKey)
	if err != nil {
		writeError(w, http.StatusBadGateway, "store: "+err.Error())
		return
	}
	s.changed(r, "unban", "rule", rule, "key", gateway.MaskKey(rules.NormalizeKey(key)), "existed", n > 0)
	writeJSON(w, http.StatusOK, map[string]any{"rule": rule, "key": rules.NormalizeKey(key), "removed": n > 0})
}

func (s *Server) reset(w http.ResponseWriter, r *http.Request) {
	rule, key, err := ruleAndKey(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	cks, ok := s.engine().CounterKeys(rule, key, s.o.Now())
	if !ok {
		writeError(w, http.StatusNotFound, "no counting rule named "+strconv.Quote(rule))
		return
	}
	in, ok := s.inspector()
	if !ok {
		writeError(w, http.StatusNotImplemented, errNoInspector.Error())
		return
	}
	n, err := in.Delete(r.Context(), cks...)
	if err != nil {
		writeError(w, http.StatusBadGateway, "store: "+err.Error())
		return
	}
	s.changed(r, "counter reset", "rule", rule, "key", gateway.MaskKey(rules.NormalizeKey(key)), "existed", n > 0)
	writeJSON(w, http.StatusOK, map[string]any{"rule": rule, "key": rules.NormalizeKey(key), "reset": n > 0})
}

func (s *Server) top(w http.ResponseWriter, r *http.Request) {
	window := 5 * time.Minute
	if v := r.URL.Query().Get("window"); v != "" {
		d, err := rules.ParseDuration(v)
		if err != nil || d < time.Minute || d > time.Hour { // activity is kept per minute
			writeError(w, http.StatusBadRequest, "window: want a duration from 1m to 1h, like 5m")
			return
		}
		window = d
	}
	n := 10
	if v := r.URL.Query().Get("n"); v != "" {
		if k, err := strconv.Atoi(v); err == nil && k > 0 && k <= 100 {
			n = k
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"window": rules.Duration(window).String(), "rules": s.o.Activity.Top(window, n)})
}

// ExplainRequest is a request to explain, as POST /api/explain takes it.
type ExplainRequest struct {
	Method   string            `json:"method"`
	Path     string            `json:"path"` // may carry the query string
	Headers  map[string]string `json:"headers"`
	Body     string            `json:"body"`
	ClientIP string            `json:"client_ip"`
}

func (s *Server) explain(w http.ResponseWriter, r *http.Request) {
	var q ExplainRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&q); err != nil {
		writeError(w, http.StatusBadRequest, "bad JSON body: "+err.Error())
		return
	}
	x, err := s.Explain(r.Context(), q)
	if err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	writeJSON(w, http.StatusOK, x)
}

type badInput struct{ error }

// Explain runs the engine on q without counting, as the gateway would
// decide it now.
func (s *Server) Explain(ctx context.Context, q ExplainRequest) (*rules.Explanation, error) {
	if q.Method == "" {
		q.Method = "GET"
	}
	if q.Path == "" || q.Path[0] != '/' {
		return nil, badInput{errors.New("path is required and starts with /")}
	}
	u, err := url.ParseRequestURI(q.Path)
	if err != nil {
		return nil, badInput{errors.New("bad path: " + err.Error())}
	}
	req := &rules.Request{Method: strings.ToUpper(q.Method), Path: u.EscapedPath(), RawQuery: u.RawQuery, Header: http.Header{}}
	for k, v := range q.Headers {
		req.Header.Set(k, v)
	}
	if q.ClientIP != "" {
		ip, err := netip.ParseAddr(q.ClientIP)
		if err != nil {
			return nil, badInput{errors.New("bad client_ip: " + err.Error())}
		}
		req.IP = ip.Unmap()
	}
	eng := s.engine()
	// The body is read only where the gateway would read it (serve in
	// internal/gateway: the query may decide, an unread form keeps POST).
	req.BodyUnread = q.Body != ""
	if req.BodyUnread && eng.NeedsBodyFor(req.Method, req.Path, req.RawQuery, req.Header.Get("Content-Type")) {
		req.Body, req.BodyUnread = []byte(q.Body), false
	}
	return eng.Explain(ctx, s.o.Now(), req)
}

func (s *Server) rules(w http.ResponseWriter, r *http.Request) {
	rows := []rules.Row{}
	if s.o.Rules != nil {
		rows = s.o.Rules()
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": rows})
}

func (s *Server) reload(w http.ResponseWriter, r *http.Request) {
	if s.o.Reload == nil {
		writeError(w, http.StatusNotImplemented, "reload is not available")
		return
	}
	err := s.o.Reload()
	s.changed(r, "reload requested", "ok", err == nil)
	if err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"reloaded": false, "error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"reloaded": true})
}

func (s *Server) activity(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.o.Activity.Snapshot())
}

func (s *Server) getMaintenance(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]bool{"maintenance": s.o.Gateway.Maintenance()})
}

func (s *Server) setMaintenance(w http.ResponseWriter, r *http.Request) {
	var body struct {
		On *bool `json:"on"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&body); err != nil || body.On == nil {
		writeError(w, http.StatusBadRequest, `want {"on": true} or {"on": false}`)
		return
	}
	s.o.Gateway.SetMaintenance(*body.On)
	s.changed(r, "maintenance mode", "on", *body.On)
	writeJSON(w, http.StatusOK, map[string]bool{"maintenance": *body.On})
}

func statusOf(err error) int {
	var bad badInput
	switch {
	case errors.As(err, &bad):
		return http.StatusBadRequest
	case errors.Is(err, errNoInspector), errors.Is(err, rules.ErrNoPeek):
		return http.StatusNotImplemented
	}
	return http.StatusBadGateway
}
