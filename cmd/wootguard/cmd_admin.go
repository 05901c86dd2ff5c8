package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wootguard/wootguard/internal/admin"
	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/rules"
)

func init() {
	register(&command{Name: "health", Summary: "check a running gateway's health (exit 0 when healthy; for HEALTHCHECKs)", Run: runHealth})
	register(&command{Name: "bans list", Summary: "list the bans in force on a running gateway", Run: runBansList})
	register(&command{Name: "bans unban", Summary: "lift a ban on a running gateway", Run: runBansUnban})
	register(&command{Name: "explain", Summary: "explain how a running gateway would decide a request, without counting it", Run: runExplain})
	register(&command{Name: "top", Summary: "the most throttled and blocked clients per rule", Run: runTop})
	register(&command{Name: "maintenance", Summary: "maintenance mode on|off|status: 503 with Retry-After instead of 502s", Run: runMaintenance})
}

// adminFlags are the flags every admin-API command shares.
type adminFlags struct {
	url, token, config *string
	format             *string
}

func addAdminFlags(fs *flag.FlagSet) adminFlags {
	return adminFlags{
		url:    fs.String("admin", "", "admin listener URL (default from --config, else http://"+config.DefaultAdminListen+")"),
		token:  fs.String("token", "", "admin token (default $"+config.AdminTokenEnv+", else from --config)"),
		config: fs.String("config", "", "config file to read admin.listen and the token from"),
		format: fs.String("format", "text", "text or json"),
	}
}

func (f adminFlags) client(env *cliEnv) (*admin.Client, error) {
	c := &admin.Client{BaseURL: *f.url, Token: *f.token}
	if c.Token == "" {
		c.Token = env.Getenv(config.AdminTokenEnv)
	}
	if *f.config != "" && (c.Token == "" || c.BaseURL == "") {
		cfg, err := config.Load(*f.config, env.Getenv)
		if err != nil {
			return nil, err
		}
		if c.Token == "" {
			c.Token = cfg.Operations.AdminToken
		}
		if c.BaseURL == "" && cfg.Operations.AdminListen != "" {
			c.BaseURL = "http://" + dialable(cfg.Operations.AdminListen)
		}
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + config.DefaultAdminListen
	}
	if u, err := url.Parse(c.BaseURL); err != nil || u.Host == "" {
		return nil, fmt.Errorf("bad --admin URL %q: want http://host:port", c.BaseURL)
	}
	return c, nil
}

// dialable turns a listen address into one to connect to (":9797" and
// "0.0.0.0:9797" → 127.0.0.1:9797).
func dialable(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func printJSON(env *cliEnv, v any) {
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func apiFailed(env *cliEnv, name string, err error) int {
	fmt.Fprintf(env.Stderr, "wootguard %s: %v\n", name, err)
	var ae *admin.APIError
	if errors.As(err, &ae) && ae.Status == 400 {
		return 2
	}
	return 1
}

func runHealth(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "health", "[--admin URL] [--format text|json]", `
Ask a running gateway's admin listener for /readyz and print the detail:
store, upstream, maintenance. Exit 0 when the gateway answers ready, 1
otherwise. Needs no token and no curl, so it fits a container HEALTHCHECK:
  HEALTHCHECK CMD ["/wootguard", "health"]
A store outage handled by the failure policy, or Chatwoot failing, is
reported but does not make the check fail: restarting the gateway would
not help and would take Chatwoot offline.`)
	af := addAdminFlags(fs)
	if code, ok := parseNoArgs(env, fs, args); !ok {
		return code
	}
	c, err := af.client(env)
	if err != nil {
		return apiFailed(env, "health", err)
	}
	c.Token = "" // health is open
	var h admin.Health
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Do(ctx, "GET", "/readyz", nil, &h); err != nil {
		fmt.Fprintf(env.Stderr, "wootguard health: unhealthy: %v\n", err)
		return 1
	}
	if *af.format == "json" {
		printJSON(env, h)
		return 0
	}
	fmt.Fprintf(env.Stdout, "%s (up since %s)\n", h.Status, h.Started.Format(time.RFC3339))
	if h.Store != nil {
		state := "healthy"
		if !h.Store.Healthy {
			state = "FAILING, failure policy deciding"
		}
		if h.Store.Keys >= 0 { // Redis does not count its keys: -1
			state += fmt.Sprintf(", %d keys", h.Store.Keys)
		}
		fmt.Fprintf(env.Stdout, "store: %s, %s, %s\n", h.Store.Kind, state, h.Store.Detail)
	}
	u := h.Upstream
	fmt.Fprintf(env.Stdout, "upstream: %d forwarded, %d failed, last status %d\n", u.Requests, u.Failures, u.LastStatus)
	if h.Maintenance {
		fmt.Fprintln(env.Stdout, "maintenance mode: ON")
	}
	return 0
}

func runBansList(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "bans list", "[--admin URL] [--token T | --config FILE] [--format text|json]", `
List the Fail2Ban/Allow2Ban bans in force on a running gateway: rule, key
(addresses and emails as they are; secrets hashed), since, time left.`)
	af := addAdminFlags(fs)
	if code, ok := parseNoArgs(env, fs, args); !ok {
		return code
	}
	c, err := af.client(env)
	if err != nil {
		return apiFailed(env, "bans list", err)
	}
	var res struct{ Bans []admin.Ban }
	if err := c.Do(ctx, "GET", "/api/bans", nil, &res); err != nil {
		return apiFailed(env, "bans list", err)
	}
	if *af.format == "json" {
		printJSON(env, res.Bans)
		return 0
	}
	if len(res.Bans) == 0 {
		fmt.Fprintln(env.Stdout, "no bans in force")
		return 0
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tKEY\tSINCE\tLEFT")
	for _, b := range res.Bans {
		since := "-"
		if !b.Since.IsZero() {
			since = b.Since.Local().Format("2006-01-02 15:04:05 MST")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", b.Rule, b.Key, since, time.Duration(b.SecondsLeft)*time.Second)
	}
	tw.Flush()
	return 0
}

func runBansUnban(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "bans unban", "--rule RULE --key KEY [--admin URL] [--token T | --config FILE]", `
Lift one ban on a running gateway: the client passes again at once. The
key is what "bans list" shows (an address, an email...). The change is
logged by the gateway with the address it came from.`)
	af := addAdminFlags(fs)
	rule := fs.String("rule", "", "the ban's rule (as in bans list)")
	key := fs.String("key", "", "the banned key (as in bans list)")
	if code, ok := parseNoArgs(env, fs, args); !ok {
		return code
	}
	if *rule == "" || *key == "" {
		fmt.Fprintln(env.Stderr, "wootguard bans unban: --rule and --key are required")
		return 2
	}
	c, err := af.client(env)
	if err != nil {
		return apiFailed(env, "bans unban", err)
	}
	var res struct{ Removed bool }
	q := url.Values{"rule": {*rule}, "key": {*key}}
	if err := c.Do(ctx, "DELETE", "/api/bans?"+q.Encode(), nil, &res); err != nil {
		return apiFailed(env, "bans unban", err)
	}
	if res.Removed {
		fmt.Fprintf(env.Stdout, "unbanned %s from %s\n", *key, *rule)
	} else {
		fmt.Fprintf(env.Stdout, "no ban in force for %s under %s (nothing changed)\n", *key, *rule)
	}
	return 0
}

func runExplain(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "explain", "--path PATH [--method M] [--client-ip IP] [--header 'Name: value']... [--body BODY] [--admin URL] [--token T | --config FILE]", `
Ask a running gateway how it would decide a request now, without counting
it: every rule in order, whether it matched, its key, the count it would
reach, and the decision. The same engine and store decide real requests.
Example:
  wootguard explain --method POST --path /auth/sign_in --client-ip 203.0.113.9 \
      --header 'Content-Type: application/json' --body '{"email":"agent@example.com"}'`)
	af := addAdminFlags(fs)
	method := fs.String("method", "GET", "HTTP method")
	path := fs.String("path", "", "path and query, e.g. /auth/sign_in")
	ip := fs.String("client-ip", "", "the client's address")
	body := fs.String("body", "", "request body")
	var headers stringList
	fs.Var(&headers, "header", "a request header 'Name: value' (repeatable)")
	if code, ok := parseNoArgs(env, fs, args); !ok {
		return code
	}
	if *path == "" {
		fmt.Fprintln(env.Stderr, "wootguard explain: --path is required")
		return 2
	}
	q := admin.ExplainRequest{Method: *method, Path: *path, ClientIP: *ip, Body: *body, Headers: map[string]string{}}
	for _, h := range headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			fmt.Fprintf(env.Stderr, "wootguard explain: bad --header %q: want 'Name: value'\n", h)
			return 2
		}
		q.Headers[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	c, err := af.client(env)
	if err != nil {
		return apiFailed(env, "explain", err)
	}
	var x rules.Explanation
	if err := c.Do(ctx, "POST", "/api/explain", q, &x); err != nil {
		return apiFailed(env, "explain", err)
	}
	if *af.format == "json" {
		printJSON(env, x)
		return 0
	}
	verdict := map[string]string{"pass": "pass (forwarded to Chatwoot)", "block": "block (403)", "throttle": "throttle (429)"}[x.Action]
	fmt.Fprintf(env.Stdout, "decision: %s", verdict)
	if x.Rule != "" {
		fmt.Fprintf(env.Stdout, " by %s %s", x.Type, x.Rule)
	}
	fmt.Fprintf(env.Stdout, "\npath as rules see it: %s\n\n", x.Path)
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tRULE\tMATCHED\tKEY\tCOUNT\tLIMIT\tNOTE")
	for _, r := range x.Rules {
		matched := "no"
		if r.Matched {
			matched = "yes"
		}
		key := r.Key
		if r.KeyMissing {
			key = "(missing: rule skipped)"
		}
		var notes []string
		if r.Decided {
			notes = append(notes, "DECIDED")
		}
		if !r.Evaluated {
			notes = append(notes, "not reached")
		}
		if r.Banned {
			notes = append(notes, "banned")
		}
		if r.WouldBan {
			notes = append(notes, "would start a ban")
		}
		if r.Mode != rules.ModeEnforce {
			notes = append(notes, r.Mode)
		}
		if r.Note != "" {
			notes = append(notes, r.Note)
		}
		count, limit := "", ""
		if r.Count > 0 {
			count = fmt.Sprint(r.Count)
		}
		if r.Limit > 0 || r.Type == "throttle" {
			limit = fmt.Sprint(r.Limit)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Type, r.Name, matched, key, count, limit, strings.Join(notes, "; "))
	}
	tw.Flush()
	return 0
}

func runTop(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "top", "[--window 5m] [-n 10] [--admin URL] [--token T | --config FILE]", `
The keys (clients, emails...) each rule throttled or blocked most in the
last window (1m to 1h), from a running gateway.`)
	af := addAdminFlags(fs)
	window := fs.String("window", "5m", "how far back, 1m to 1h")
	n := fs.Int("n", 10, "keys per rule")
	if code, ok := parseNoArgs(env, fs, args); !ok {
		return code
	}
	c, err := af.client(env)
	if err != nil {
		return apiFailed(env, "top", err)
	}
	var res struct {
		Window string
		Rules  []admin.TopRule
	}
	q := url.Values{"window": {*window}, "n": {fmt.Sprint(*n)}}
	if err := c.Do(ctx, "GET", "/api/top?"+q.Encode(), nil, &res); err != nil {
		return apiFailed(env, "top", err)
	}
	if *af.format == "json" {
		printJSON(env, res.Rules)
		return 0
	}
	if len(res.Rules) == 0 {
		fmt.Fprintf(env.Stdout, "nothing refused in the last %s\n", res.Window)
		return 0
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tKEY\tREFUSED")
	for _, r := range res.Rules {
		for _, k := range r.Keys {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", r.Rule, k.Key, k.Count)
		}
	}
	tw.Flush()
	return 0
}

func runMaintenance(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "maintenance", "on|off|status [--admin URL] [--token T | --config FILE]", `
Maintenance mode on a running gateway: while on, every request gets a
short 503 page with Retry-After (maintenance.retry_after, default 120s)
instead of the 502s Chatwoot gives while it is being updated. It is not
kept across a restart of the gateway.`)
	af := addAdminFlags(fs)
	pos, code, ok := parseFlags(env, fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 || (pos[0] != "on" && pos[0] != "off" && pos[0] != "status") {
		fmt.Fprintln(env.Stderr, "wootguard maintenance: want on, off or status")
		return 2
	}
	c, err := af.client(env)
	if err != nil {
		return apiFailed(env, "maintenance", err)
	}
	var res struct{ Maintenance bool }
	if pos[0] == "status" {
		err = c.Do(ctx, "GET", "/api/maintenance", nil, &res)
	} else {
		err = c.Do(ctx, "POST", "/api/maintenance", map[string]bool{"on": pos[0] == "on"}, &res)
	}
	if err != nil {
		return apiFailed(env, "maintenance", err)
	}
	state := "off: requests reach Chatwoot"
	if res.Maintenance {
		state = "ON: every request gets 503 with Retry-After"
	}
	fmt.Fprintf(env.Stdout, "maintenance mode %s\n", state)
	return 0
}
