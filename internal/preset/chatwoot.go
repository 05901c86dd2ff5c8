// Package preset holds ready-made rule sets. Chatwoot is Chatwoot's own
// config/initializers/rack_attack.rb (v4.18), tuned by the same
// environment variables a Chatwoot .env already has.
package preset

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wootguard/wootguard/internal/rules"
)

// Source names rules that come from this preset.
const Source = "chatwoot"

// Chatwoot returns Chatwoot's rule set for the given environment, and
// warnings about values it could not use.
//
// ENABLE_RACK_ATTACK=false gives an empty set (the file's own rules still
// apply). Numbers that do not parse keep their default, with a warning
// (Chatwoot's to_i would turn them into 0 and throttle everything).
func Chatwoot(getenv func(string) string) (rules.Spec, []string) {
	p := &builder{getenv: getenv}
	if !p.flag("ENABLE_RACK_ATTACK") {
		return rules.Spec{}, p.warnings
	}
	var s rules.Spec
	allowed := []string{"127.0.0.1", "::1"}
	for _, ip := range strings.Split(getenv("RACK_ATTACK_ALLOWED_IPS"), ",") {
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
		{Name: "health check", Match: &rules.Match{Path: list("/health")}, Source: Source},
	}

	signIn := func(extra *rules.Match) *rules.Match {
		m := &rules.Match{Method: list("POST"), Path: list("/auth/sign_in")}
		if extra != nil {
			m.ParamPresent, m.ParamAbsent = extra.ParamPresent, extra.ParamAbsent
		}
		return m
	}
	noMFA := &rules.Match{ParamAbsent: list("mfa_token", "mfa_setup_token")}
	post := func(path string) *rules.Match { return &rules.Match{Method: list("POST"), Path: list(path)} }
	email := list("param:email")
	loginEmail := list("param:email|header:email") // 4.18 also reads the email header
	ip := list("ip")
	accountRE := func(method, re string) *rules.Match {
		m := &rules.Match{PathRegex: re}
		if method != "" {
			m.Method = list(method)
		}
		return m
	}

	s.Throttles = []rules.Throttle{
		p.t("req/ip", p.num("RACK_ATTACK_LIMIT", 3000), time.Minute, ip, nil),
		p.t("super_admin_login/ip", 5, 5*time.Minute, ip, post("/super_admin/sign_in")),
		p.t("super_admin_login/email", 5, 15*time.Minute, email, post("/super_admin/sign_in")),
		p.t("login/ip", 5, 5*time.Minute, ip, signIn(noMFA)),
		p.t("login/email", 10, 15*time.Minute, loginEmail, signIn(noMFA)),
		p.t("reset_password/ip", 5, 30*time.Minute, ip, post("/auth/password")),
		p.t("reset_password/email", 5, time.Hour, email, post("/auth/password")),
		p.t("resend_confirmation/ip", 5, 30*time.Minute, ip, post("/resend_confirmation")),
		p.t("resend_confirmation/email", 5, time.Hour, email, post("/resend_confirmation")),
		p.t("resend_confirmation_auth/ip", 5, 30*time.Minute, ip, post("/api/v1/profile/resend_confirmation")),
		p.t("mfa_verification/ip", 5, time.Minute, ip, &rules.Match{Any: []rules.Match{
			{Method: list("DELETE"), Path: list("/api/v1/profile/mfa")},
			{Method: list("POST"), PathRegex: `/api/v1/profile/mfa/(verify|backup_codes)`},
		}}),
		p.t("mfa_login/ip", 10, time.Minute, ip, signIn(&rules.Match{ParamPresent: list("mfa_token")})),
		p.t("mfa_login/token", 10, time.Minute, list("param:mfa_token"), signIn(nil)),
		p.t("mfa_setup_login/ip", 10, time.Minute, ip, signIn(&rules.Match{ParamPresent: list("mfa_setup_token")})),
		p.t("mfa_setup_login/token", 10, time.Minute, list("param:mfa_setup_token"), signIn(nil)),
		p.t("accounts/ip", 5, 30*time.Minute, ip, post("/api/v1/accounts")),
	}
	if p.flag("ENABLE_RACK_ATTACK_WIDGET_API") {
		widget := []struct {
			sw, env, name string
			limit         int64
			period        time.Duration
			key           rules.StringList
			match         *rules.Match
		}{
			{"CONVERSATIONS", "RATE_LIMIT_WIDGET_CONVERSATIONS", "api/v1/widget/conversations", 30, time.Minute,
				list("ip", "param:website_token"), post("/api/v1/widget/conversations")},
			{"MESSAGES", "RATE_LIMIT_WIDGET_MESSAGES", "api/v1/widget/messages", 60, time.Minute,
				list("ip", "param:website_token"), post("/api/v1/widget/messages")},
			// Before PR #14376 this rule named /widget/contacts, a path that
			// does not exist; the route is /api/v1/widget/contact.
			{"CONTACTS", "RATE_LIMIT_WIDGET_CONTACTS", "api/v1/widget/contact", 60, time.Hour,
				ip, &rules.Match{Method: list("PATCH", "PUT"), Path: list("/api/v1/widget/contact")}},
			{"LOAD", "RATE_LIMIT_WIDGET_LOAD", "widget?website_token={website_token}&cw_conversation={x-auth-token}", 200, time.Hour,
				ip, &rules.Match{Path: list("/widget"), ParamAbsent: list("cw_conversation")}},
			{"TRANSCRIPT", "RATE_LIMIT_WIDGET_TRANSCRIPT", "api/v1/widget/conversations/transcript", 5, time.Hour,
				ip, post("/api/v1/widget/conversations/transcript")},
		}
		for _, w := range widget {
			if p.flag("ENABLE_RACK_ATTACK_WIDGET_" + w.sw) {
				s.Throttles = append(s.Throttles, p.t(w.name, p.num(w.env, w.limit), w.period, w.key, w.match))
			}
		}
	}
	userLevel := p.num("RATE_LIMIT_REPORTS_API_USER_LEVEL", 100)
	apiUser := list("chatwoot:api_user", "capture:1")
	account := list("capture:1")
	s.Throttles = append(s.Throttles,
		p.t("/api/v1/accounts/:account_id/conversations/:conversation_id/transcript", p.num("RATE_LIMIT_CONVERSATION_TRANSCRIPT", 1000), time.Hour,
			account, accountRE("", `/api/v1/accounts/(\d+)/conversations/(\d+)/transcript`)),
		p.t("/api/v1/accounts/:account_id/upload", 60, time.Hour, account, accountRE("", `/api/v1/accounts/(\d+)/upload`)),
		p.t("/api/v1/accounts/:account_id/contacts/search", p.num("RATE_LIMIT_CONTACT_SEARCH", 100), time.Minute,
			account, accountRE("", `/api/v1/accounts/(\d+)/contacts/search`)),
		p.t("/api/v2/accounts/:account_id/reports/user", userLevel, time.Minute, apiUser, accountRE("", `/api/v2/accounts/(\d+)/reports`)),
		p.t("/api/v2/accounts/:account_id/reports", p.num("RATE_LIMIT_REPORTS_API_ACCOUNT_LEVEL", 1000), time.Minute,
			account, accountRE("", `/api/v2/accounts/(\d+)/reports`)),
		p.t("/api/v2/accounts/:account_id/reports/drilldown/user", p.num("RATE_LIMIT_REPORTS_DRILLDOWN_API_USER_LEVEL", max(userLevel/10, 1)), time.Minute,
			apiUser, accountRE("GET", `^/api/v2/accounts/(\d+)/reports/drilldown$`)),
		p.t("/api/v1/accounts/:account_id/conversations/meta/user", p.num("RATE_LIMIT_CONVERSATIONS_META", 30), time.Minute,
			apiUser, accountRE("GET", `/api/v1/accounts/(\d+)/conversations/meta`)),
		p.t("/api/v1/accounts/:account_id/conversations/:id DELETE", p.num("RATE_LIMIT_CONVERSATION_DELETE", 60), time.Minute,
			account, accountRE("DELETE", `^/api/v1/accounts/(\d+)/conversations/\d+$`)),
		p.t("/api/v1/accounts/:account_id/agents POST", p.num("RATE_LIMIT_AGENT_CREATE", 100), 24*time.Hour,
			account, accountRE("POST", `^/api/v1/accounts/(\d+)/agents(/bulk_create)?$`)),
		p.t("/api/v1/accounts/:account_id/agents/:id DELETE", p.num("RATE_LIMIT_AGENT_DELETE", 50), 24*time.Hour,
			account, accountRE("DELETE", `^/api/v1/accounts/(\d+)/agents/\d+$`)),
	)
	return s, p.warnings
}

type builder struct {
	getenv   func(string) string
	warnings []string
}

func (p *builder) warn(format string, args ...any) {
	p.warnings = append(p.warnings, fmt.Sprintf(format, args...))
}

func (p *builder) t(name string, limit int64, period time.Duration, key rules.StringList, m *rules.Match) rules.Throttle {
	return rules.Throttle{Name: name, Limit: &limit, Period: rules.Duration(period), Key: key, Match: m, Source: Source}
}

// flag reads a switch that defaults to true, cast like ActiveModel's
// boolean: false, 0, f, off (any case) are false.
func (p *builder) flag(name string) bool {
	v := strings.TrimSpace(p.getenv(name))
	switch strings.ToLower(v) {
	case "":
		return true
	case "false", "0", "f", "off":
		return false
	case "true", "1", "t", "on":
		return true
	}
	p.warn("%s=%q is not a boolean; using true", name, v)
	return true
}

func (p *builder) num(name string, def int64) int64 {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		p.warn("%s=%q is not a whole number; using %d", name, v, def)
		return def
	}
	return n
}

func list(s ...string) rules.StringList { return s }
