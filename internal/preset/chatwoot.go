// Package preset holds ready-made rule sets. Chatwoot is Chatwoot's own
// config/initializers/rack_attack.rb (the v4.18-era file), rule for rule
// in its order, tuned by the same environment variables a Chatwoot .env
// already has. Where wootguard deliberately differs, Differences says so.
package preset

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/railsreq"
	"github.com/wootguard/wootguard/internal/rules"
)

// Source names rules that come from this preset.
const Source = "chatwoot"

// Chatwoot returns Chatwoot's rule set for an environment in which an
// empty value is the same as an unset one; see ChatwootEnv.
func Chatwoot(getenv func(string) string) (rules.Spec, []string) {
	return ChatwootEnv(func(k string) (string, bool) {
		v := getenv(k)
		return v, v != ""
	})
}

// ChatwootEnv returns Chatwoot's rule set for the environment lookup
// gives, and warnings about values it could not use or that switch rules
// off (those start with RulesOff, to be shown loudly).
//
// Switches are cast as Chatwoot casts them (ActiveModel::Type::Boolean):
// unset is on, "" is OFF, only false FALSE f F 0 off OFF are off (case
// matters), anything else is on. ENABLE_RACK_ATTACK off gives an empty
// set (the file's own rules still apply). Chatwoot also switches the
// whole file off unless RAILS_ENV=production; wootguard does not read
// RAILS_ENV (Chatwoot's .env.example says development while its compose
// file runs production). Numbers that do not parse keep their default,
// with a warning (Chatwoot's to_i would turn "" or "lots" into 0 and
// throttle everything).
func ChatwootEnv(lookup func(string) (string, bool)) (rules.Spec, []string) {
	p := &builder{lookup: lookup}
	if !p.flag("ENABLE_RACK_ATTACK", "every Chatwoot preset rule") {
		return rules.Spec{}, p.warnings
	}
	var s rules.Spec
	allowed := []string{"127.0.0.1", "::1"}
	ips, _ := lookup("RACK_ATTACK_ALLOWED_IPS")
	for _, ip := range strings.Split(ips, ",") {
		if ip = strings.TrimSpace(ip); ip == "" {
			continue
		}
		if _, err := rules.ParsePrefix(ip); err != nil {
			p.warn("RACK_ATTACK_ALLOWED_IPS: %v (skipped)", err)
			continue
		}
		allowed = append(allowed, ip)
	}
	s.Safelists = []rules.ListRule{
		{Name: "trusted IPs", IP: allowed, Source: Source},
		// req.path == '/health': the whole path, not decoded, so
		// /health.json and /%68ealth count as they do in Chatwoot.
		{Name: "health check", Match: &rules.Match{Path: list("/health"), Extensions: "exact"}, Source: Source},
	}

	// post is "req.path_without_extensions == path && req.post?".
	post := func(path string) *rules.Match {
		return &rules.Match{Method: list("POST"), Path: list(path), Extensions: "strip"}
	}
	signIn := func(present, absent []string) *rules.Match {
		m := post("/auth/sign_in")
		m.StringParamPresent, m.StringParamAbsent = present, absent
		return m
	}
	noMFA := list("mfa_token", "mfa_setup_token")
	ip := list("ip")
	authEmail := list("chatwoot:auth_email")
	// re matches req.path (ext "keep") or path_without_extensions ("strip").
	re := func(method, ext, expr string) *rules.Match {
		m := &rules.Match{PathRegex: expr, Extensions: ext}
		if method != "" {
			m.Method = list(method)
		}
		return m
	}

	s.Throttles = []rules.Throttle{
		p.t("req/ip", p.num("RACK_ATTACK_LIMIT", 3000), time.Minute, ip, nil),
		p.t("super_admin_login/ip", 5, 5*time.Minute, ip, post("/super_admin/sign_in")),
		p.t("super_admin_login/email", 5, 15*time.Minute, list("chatwoot:super_admin_email"), post("/super_admin/sign_in")),
		p.t("login/ip", 5, 5*time.Minute, ip, signIn(nil, noMFA)),
		p.t("login/email", 10, 15*time.Minute, authEmail, signIn(nil, noMFA)),
		p.t("reset_password/ip", 5, 30*time.Minute, ip, post("/auth/password")),
		p.t("reset_password/email", 5, time.Hour, authEmail, post("/auth/password")),
		p.t("resend_confirmation/ip", 5, 30*time.Minute, ip, post("/resend_confirmation")),
		p.t("resend_confirmation/email", 5, time.Hour, authEmail, post("/resend_confirmation")),
		p.t("resend_confirmation_auth/ip", 5, 30*time.Minute, ip, post("/api/v1/profile/resend_confirmation")),
		p.t("mfa_verification/ip", 5, time.Minute, ip, &rules.Match{Any: []rules.Match{
			{Method: list("DELETE"), Path: list("/api/v1/profile/mfa"), Extensions: "strip"},
			{Method: list("POST"), PathRegex: `/api/v1/profile/mfa/(verify|backup_codes)`, Extensions: "strip"},
		}}),
		p.t("mfa_login/ip", 10, time.Minute, ip, signIn(list("mfa_token"), nil)),
		p.t("mfa_login/token", 10, time.Minute, list("present(string(param:mfa_token))"), signIn(nil, nil)),
		p.t("mfa_setup_login/ip", 10, time.Minute, ip, signIn(list("mfa_setup_token"), nil)),
		p.t("mfa_setup_login/token", 10, time.Minute, list("present(string(param:mfa_setup_token))"), signIn(nil, nil)),
		p.t("accounts/ip", 5, 30*time.Minute, ip, post("/api/v1/accounts")),
	}
	if p.flag("ENABLE_RACK_ATTACK_WIDGET_API", "every widget rule") {
		// "#{req.ip}:#{token}" with token = ActionDispatch params
		// ['website_token'].presence: not counted without one.
		ipToken := list("ip", "present(param:website_token)")
		widget := []struct {
			sw, env, name string
			limit         int64
			period        time.Duration
			key           rules.StringList
			match         *rules.Match
		}{
			{"CONVERSATIONS", "RATE_LIMIT_WIDGET_CONVERSATIONS", "api/v1/widget/conversations", 30, time.Minute,
				ipToken, post("/api/v1/widget/conversations")},
			{"MESSAGES", "RATE_LIMIT_WIDGET_MESSAGES", "api/v1/widget/messages", 60, time.Minute,
				ipToken, post("/api/v1/widget/messages")},
			{"CONTACTS", "RATE_LIMIT_WIDGET_CONTACTS", "api/v1/widget/contact", 60, time.Hour,
				ip, &rules.Match{Method: list("PATCH", "PUT"), Path: list("/api/v1/widget/contact"), Extensions: "strip"}},
			{"LOAD", "RATE_LIMIT_WIDGET_LOAD", "widget?website_token={website_token}&cw_conversation={x-auth-token}", 200, time.Hour,
				ip, &rules.Match{Path: list("/widget"), ParamAbsent: list("cw_conversation"), Extensions: "strip"}},
			{"TRANSCRIPT", "RATE_LIMIT_WIDGET_TRANSCRIPT", "api/v1/widget/conversations/transcript", 5, time.Hour,
				ip, post("/api/v1/widget/conversations/transcript")},
		}
		for _, w := range widget {
			if p.flag("ENABLE_RACK_ATTACK_WIDGET_"+w.sw, "the "+w.name+" rule") {
				s.Throttles = append(s.Throttles, p.t(w.name, p.num(w.env, w.limit), w.period, w.key, w.match))
			}
		}
	}
	// Record ids are any segment Ruby's to_i reads as a number, keyed by
	// it ("09", "9-x" and "9" are account 9 in Rails): see Differences.
	const id = `(\s*[+-]?\d[^/]*)`
	account := list("int(capture:1)")
	apiUser := list("chatwoot:api_user", "int(capture:1)")
	userLevel := p.num("RATE_LIMIT_REPORTS_API_USER_LEVEL", 100)
	s.Throttles = append(s.Throttles,
		p.t("/api/v1/accounts/:account_id/conversations/:conversation_id/transcript", p.num("RATE_LIMIT_CONVERSATION_TRANSCRIPT", 1000), time.Hour,
			account, re("", "keep", "/api/v1/accounts/"+id+"/conversations/"+id+"/transcript")),
		p.t("/api/v1/accounts/:account_id/conversations/:id DELETE", p.num("RATE_LIMIT_CONVERSATION_DELETE", 60), time.Minute,
			account, re("DELETE", "strip", "^/api/v1/accounts/"+id+"/conversations/"+id+"/?$")),
		p.t("/api/v1/accounts/:account_id/agents POST", p.num("RATE_LIMIT_AGENT_CREATE", 100), 24*time.Hour,
			account, re("POST", "strip", "^/api/v1/accounts/"+id+"/agents(?:/bulk_create)?/?$")),
		p.t("/api/v1/accounts/:account_id/agents/:id DELETE", p.num("RATE_LIMIT_AGENT_DELETE", 50), 24*time.Hour,
			account, re("DELETE", "strip", "^/api/v1/accounts/"+id+"/agents/"+id+"/?$")),
		p.t("/api/v1/accounts/:account_id/upload", 60, time.Hour, account, re("", "keep", "/api/v1/accounts/"+id+"/upload")),
		p.t("/api/v1/accounts/:account_id/contacts/search", p.num("RATE_LIMIT_CONTACT_SEARCH", 100), time.Minute,
			account, re("", "keep", "/api/v1/accounts/"+id+"/contacts/search")),
		p.t("/api/v2/accounts/:account_id/reports/drilldown/user", p.numDefault("RATE_LIMIT_REPORTS_DRILLDOWN_API_USER_LEVEL", max(userLevel/10, 1)), time.Minute,
			apiUser, re("GET", "strip", "^/api/v2/accounts/"+id+"/reports/drilldown$")),
		p.t("/api/v2/accounts/:account_id/reports/user", userLevel, time.Minute, apiUser, re("", "keep", "/api/v2/accounts/"+id+"/reports")),
		p.t("/api/v2/accounts/:account_id/reports", p.num("RATE_LIMIT_REPORTS_API_ACCOUNT_LEVEL", 1000), time.Minute,
			account, re("", "keep", "/api/v2/accounts/"+id+"/reports")),
		p.t("/api/v1/accounts/:account_id/conversations/meta/user", p.num("RATE_LIMIT_CONVERSATIONS_META", 30), time.Minute,
			apiUser, re("GET", "keep", "/api/v1/accounts/"+id+"/conversations/meta")),
	)
	return s, p.warnings
}

// RulesOff starts every warning about rules an environment value
// switched off, so that start-up, check-config and `rules` can shout it.
const RulesOff = "RULES OFF: "

type builder struct {
	lookup   func(string) (string, bool)
	warnings []string
}

func (p *builder) warn(format string, args ...any) {
	p.warnings = append(p.warnings, fmt.Sprintf(format, args...))
}

func (p *builder) t(name string, limit int64, period time.Duration, key rules.StringList, m *rules.Match) rules.Throttle {
	return rules.Throttle{Name: name, Limit: &limit, Period: rules.Duration(period), Key: key, Match: m, Source: Source}
}

// CastBoolean is ActiveModel::Type::Boolean#cast of an environment
// value: ok is false for "" (nil, which Chatwoot's if treats as off).
func CastBoolean(v string) (on, ok bool) {
	switch v {
	case "":
		return false, false
	case "false", "FALSE", "f", "F", "0", "off", "OFF":
		return false, true
	}
	return true, true
}

// flag reads a switch that defaults to true (ENV.fetch(name, true)).
func (p *builder) flag(name, what string) bool {
	v, set := p.lookup(name)
	if !set {
		return true
	}
	on, ok := CastBoolean(v)
	switch {
	case !ok:
		p.warn("%s%s is set but empty, which Chatwoot casts to nil: %s switched OFF, as Chatwoot would (unset it or set true to keep them)", RulesOff, name, what)
	case !on:
		p.warn("%s%s=%q switches %s OFF, as Chatwoot would", RulesOff, name, v, what)
	case v != "true" && v != "TRUE" && v != "1" && v != "t" && v != "T" && v != "on" && v != "ON":
		p.warn("%s=%q is not a usual boolean; Chatwoot reads it as true (only false FALSE f F 0 off OFF are false), and so does wootguard", name, v)
	}
	return on
}

// num reads a limit (ENV.fetch(name, def).to_i).
func (p *builder) num(name string, def int64) int64 { return p.numDefault(name, def) }

func (p *builder) numDefault(name string, def int64) int64 {
	v, set := p.lookup(name)
	if !set {
		return def
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		chatwoot := railsreq.RubyToI(v)
		if chatwoot == "0" || strings.HasPrefix(chatwoot, "-") {
			chatwoot += ", which throttles every request"
		}
		p.warn("%s=%q is not a whole number: using the default %d (Chatwoot's to_i would read %s)", name, v, def, chatwoot)
		return def
	}
	if n == 0 {
		p.warn("%s=0 throttles every request of its rule, as it does in Chatwoot", name)
	}
	return n
}

func list(s ...string) rules.StringList { return s }
