package replay

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/clientip"
	"github.com/wootguard/wootguard/internal/rules"
)

// Fields names the JSON keys a JSON-lines log uses. Each holds one or
// more candidate names, tried in order; the defaults read wootguard's own
// json access log and the usual nginx/Caddy/Traefik-style names.
type Fields struct {
	Time      []string // RFC 3339, nginx's time_local, or Unix seconds (milliseconds when > 1e12)
	Client    []string // a client address already resolved by the logging proxy: used as is
	Peer      []string // the TCP peer: resolved with X-Forwarded-For by client_ip
	XFF       []string
	Method    []string
	URI       []string // path and query
	Path      []string // path only (with Query)
	Query     []string
	Request   []string // "METHOD URI PROTO"
	Status    []string
	UserAgent []string
	Referer   []string
	Decision  []string
	Rule      []string
}

// DefaultFields are the names tried when none are given.
func DefaultFields() Fields {
	return Fields{
		Time:      []string{"ts", "time", "timestamp", "@timestamp", "time_iso8601", "time_local", "date"},
		Client:    []string{"client_ip"},
		Peer:      []string{"peer", "remote_addr", "remote_ip", "ip", "client"},
		XFF:       []string{"http_x_forwarded_for", "x_forwarded_for", "xff", "forwarded_for"},
		Method:    []string{"method", "request_method"},
		URI:       []string{"uri", "request_uri", "url"},
		Path:      []string{"path"},
		Query:     []string{"query", "args", "query_string"},
		Request:   []string{"request"},
		Status:    []string{"status", "status_code", "response_status"},
		UserAgent: []string{"user_agent", "http_user_agent", "ua"},
		Referer:   []string{"referer", "http_referer", "referrer"},
		Decision:  []string{"decision"},
		Rule:      []string{"rule"},
	}
}

// ParseFields reads "time=@timestamp,peer=remote_addr" over the
// defaults; a name replaces that field's candidates.
func ParseFields(spec string) (Fields, error) {
	f := DefaultFields()
	if strings.TrimSpace(spec) == "" {
		return f, nil
	}
	slots := map[string]*[]string{"time": &f.Time, "client": &f.Client, "peer": &f.Peer, "xff": &f.XFF,
		"method": &f.Method, "uri": &f.URI, "path": &f.Path, "query": &f.Query, "request": &f.Request,
		"status": &f.Status, "user_agent": &f.UserAgent, "referer": &f.Referer, "decision": &f.Decision, "rule": &f.Rule}
	for _, kv := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		slot := slots[strings.TrimSpace(k)]
		if !ok || slot == nil || strings.TrimSpace(v) == "" {
			return f, fmt.Errorf("bad --json-fields entry %q: want FIELD=NAME with FIELD one of time, client, peer, xff, method, uri, path, query, request, status, user_agent, referer, decision, rule", kv)
		}
		*slot = []string{strings.TrimSpace(v)}
	}
	return f, nil
}

type jsonParser struct {
	f      Fields
	fields []jsonField // reused between lines
}

func (p *jsonParser) parse(line string, rec *Record) error {
	obj, err := scanObject(line, p.fields[:0])
	p.fields = obj
	if err != nil {
		return err
	}
	get := func(names []string) (jsonField, bool) {
		for _, n := range names {
			for _, f := range obj {
				if f.key == n && f.kind != 'n' {
					return f, true
				}
			}
		}
		return jsonField{}, false
	}
	str := func(names []string) (string, bool) {
		f, ok := get(names)
		if !ok || (f.kind != '"' && f.kind != '0') {
			return "", false
		}
		return f.val, true
	}
	tv, ok := get(p.f.Time)
	if !ok {
		return errors.New("no time field (" + strings.Join(p.f.Time, ", ") + ")")
	}
	t, err := p.parseTime(tv)
	if err != nil {
		return err
	}
	rec.Time = t
	if s, ok := str(p.f.Client); ok && s == rules.UnknownClientKey {
		rec.UnknownClient = true // wootguard's own word for a client it could not resolve
	} else if ok && s != "" {
		if rec.Client = clientip.ParseAddr(s); !rec.Client.IsValid() {
			return errors.New("bad client address " + strconv.Quote(s))
		}
	} else if s, ok := str(p.f.Peer); ok {
		if rec.Peer = clientip.ParseAddr(s); !rec.Peer.IsValid() {
			return errors.New("bad client address " + strconv.Quote(s))
		}
	} else {
		return errors.New("no client address field (" + strings.Join(append(append([]string{}, p.f.Client...), p.f.Peer...), ", ") + ")")
	}
	if s, ok := str(p.f.XFF); ok {
		rec.XFF, rec.HasXFF = dash(s), true
	}
	if s, ok := str(p.f.Request); ok {
		if err := parseRequestLine(s, rec); err != nil {
			return err
		}
	}
	if s, ok := str(p.f.Method); ok {
		rec.Method = s
	}
	if s, ok := str(p.f.URI); ok {
		if err := splitURI(s, rec); err != nil {
			return err
		}
	} else if s, ok := str(p.f.Path); ok {
		rec.Path = s
		if q, ok := str(p.f.Query); ok {
			rec.Query = strings.TrimPrefix(q, "?")
		}
	}
	if rec.Method == "" || rec.Path == "" {
		return errors.New("no method and path (fields method+uri, or request)")
	}
	if s, ok := str(p.f.Status); ok {
		if rec.Status, err = strconv.Atoi(s); err != nil {
			return errors.New("bad status " + strconv.Quote(s))
		}
	}
	if s, ok := str(p.f.UserAgent); ok {
		rec.UserAgent, rec.HasUA = dash(s), true
	}
	if s, ok := str(p.f.Referer); ok {
		rec.Referer, rec.HasReferer = dash(s), true
	}
	rec.Decision, _ = str(p.f.Decision)
	rec.Rule, _ = str(p.f.Rule)
	return nil
}

func (p *jsonParser) parseTime(v jsonField) (time.Time, error) {
	switch x := v.val; v.kind {
	case '0':
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return time.Time{}, errors.New("bad time " + x)
		}
		if f > 1e12 { // milliseconds
			f /= 1000
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	case '"':
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return t, nil
		}
		if t, err := time.Parse("02/Jan/2006:15:04:05 -0700", x); err == nil {
			return t, nil
		}
		if _, err := strconv.ParseFloat(x, 64); err == nil {
			return p.parseTime(jsonField{val: x, kind: '0'})
		}
		return time.Time{}, errors.New("bad time " + strconv.Quote(x) + ": want RFC 3339, 02/Jan/2006:15:04:05 -0700 or Unix seconds")
	}
	return time.Time{}, errors.New("bad time: not a string or number")
}
