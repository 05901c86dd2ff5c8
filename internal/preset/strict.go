package preset

import (
	"slices"
	"time"

	"github.com/wootguard/wootguard/internal/rules"
)

// StrictSource names rules that come from the strict profile.
const StrictSource = "strict"

// StrictOptions tunes the strict profile (config key `profile`).
type StrictOptions struct {
	// Enforce switches the profile's rules from dry-run to enforce.
	Enforce bool
	// AdminNetworks (CIDRs): when set, the admin surfaces answer 403 to
	// every other client.
	AdminNetworks []string
	// ExemptTokens ("sha256:HEX" of exact API access tokens) are not
	// counted by the strict API-write rules, and by nothing else.
	ExemptTokens []string
	// TrustedFor is how long a successful sign-in keeps its (email,
	// address) pair out of the failed-login ban (default 30 days).
	TrustedFor time.Duration
}

// DefaultTrustedFor is the strict failed-login rule's trusted_for.
const DefaultTrustedFor = 30 * 24 * time.Hour

// strictAuthRules are the authentication rules whose refusals make a
// repeat offender: Chatwoot's login, password reset, confirmation,
// signup, super admin and MFA throttles, and the strict ones for the
// routes Chatwoot leaves open. Not req/ip and not the widget: a busy
// office behind one NAT hits those without being an attacker.
var strictAuthRules = []string{
	"super_admin_login/ip", "super_admin_login/email", "login/ip", "login/email",
	"reset_password/ip", "reset_password/email", "resend_confirmation/ip", "resend_confirmation/email",
	"resend_confirmation_auth/ip", "mfa_verification/ip", "mfa_login/ip", "mfa_login/token",
	"mfa_setup_login/ip", "mfa_setup_login/token", "accounts/ip",
	StrictSignupV2, StrictSignupAuth, StrictLoginFailures,
}

// Names of the strict rules that other parts (docs, tests) refer to.
const (
	StrictRepeatOffenders = "strict/repeat-offenders"
	StrictLoginFailures   = "strict/login-failures/email"
	StrictAdminNetworks   = "strict/admin-networks"
	StrictSignupV2        = "strict/signup/v2/ip"
	StrictSignupAuth      = "strict/signup/auth/ip"
)

// StrictWriteRules are the rules exempt_tokens apply to.
var StrictWriteRules = []string{
	"strict/api-writes/conversations/user", "strict/api-writes/conversations/account",
	"strict/api-writes/messages/user", "strict/api-writes/messages/account",
	"strict/api-writes/contacts/user", "strict/api-writes/contacts/account",
}

// authRoutes are what a repeat offender is banned from: the routes of
// the authentication rules (any method, so the sign-in pages too).
func authRoutes() *rules.Match {
	return &rules.Match{Any: []rules.Match{
		{Path: list("/auth/sign_in", "/auth/password", "/auth", "/resend_confirmation",
			"/api/v1/profile/resend_confirmation", "/super_admin/sign_in", "/api/v1/accounts", "/api/v2/accounts")},
		{PathPrefix: list("/api/v1/profile/mfa")},
	}}
}

// Strict returns the strict profile's rules, to be merged after the
// preset's (base: the preset's rules, so that the repeat-offender rule
// names only refusals that exist). Every rule is dry-run unless
// o.Enforce.
func Strict(o StrictOptions, base rules.Spec) rules.Spec {
	mode := rules.ModeDryRun
	if o.Enforce {
		mode = rules.ModeEnforce
	}
	trusted := o.TrustedFor
	if trusted == 0 {
		trusted = DefaultTrustedFor
	}
	n := func(v int64) *int64 { return &v }
	d := func(v time.Duration) rules.Duration { return rules.Duration(v) }
	post := func(path string) *rules.Match { return &rules.Match{Method: list("POST"), Path: list(path)} }
	postRE := func(re string) *rules.Match { return &rules.Match{Method: list("POST"), PathRegex: re} }
	th := func(name string, limit int64, period time.Duration, key rules.StringList, m *rules.Match) rules.Throttle {
		return rules.Throttle{Name: name, Limit: n(limit), Period: d(period), Key: key, Match: m, Mode: mode, Source: StrictSource}
	}
	var s rules.Spec

	if len(o.AdminNetworks) > 0 {
		s.Blocklists = append(s.Blocklists, rules.ListRule{Name: StrictAdminNetworks, Mode: mode, Source: StrictSource,
			Match: &rules.Match{PathPrefix: list("/super_admin", "/monitoring/sidekiq", "/installation/onboarding"),
				NotIP: append(rules.StringList{}, o.AdminNetworks...)}})
	}

	// Throttles for the entry points Chatwoot leaves unthrottled.
	s.Throttles = append(s.Throttles,
		th(StrictSignupV2, 5, 30*time.Minute, list("ip"), post("/api/v2/accounts")),
		th(StrictSignupAuth, 5, 30*time.Minute, list("ip"), post("/auth")),
	)
	const inbox = `^/public/api/v1/inboxes/([^/]+)/contacts`
	for _, p := range []struct {
		what, re        string
		perIP, perInbox int64
		period          time.Duration
	}{
		{"contacts", inbox + `$`, 60, 3000, time.Hour},
		{"conversations", inbox + `/[^/]+/conversations$`, 30, 600, time.Minute},
		{"messages", inbox + `/[^/]+/conversations/[^/]+/messages$`, 60, 1200, time.Minute},
	} {
		s.Throttles = append(s.Throttles,
			th("strict/public-api/"+p.what+"/ip", p.perIP, p.period, list("ip"), postRE(p.re)),
			th("strict/public-api/"+p.what+"/inbox", p.perInbox, p.period, list("capture:1"), postRE(p.re)),
		)
	}

	// API writes abusers use, per API user and per account.
	for _, w := range []struct {
		what, re        string
		perUser, perAcc int64
	}{
		{"conversations", `^/api/v1/accounts/(\d+)/conversations$`, 60, 600},
		{"messages", `^/api/v1/accounts/(\d+)/conversations/\d+/messages$`, 120, 1200},
		{"contacts", `^/api/v1/accounts/(\d+)/contacts$`, 60, 600},
	} {
		user := th("strict/api-writes/"+w.what+"/user", w.perUser, time.Minute, list("chatwoot:api_user", "capture:1"), postRE(w.re))
		acc := th("strict/api-writes/"+w.what+"/account", w.perAcc, time.Minute, list("capture:1"), postRE(w.re))
		user.ExemptTokens = append(rules.StringList{}, o.ExemptTokens...)
		acc.ExemptTokens = append(rules.StringList{}, o.ExemptTokens...)
		s.Throttles = append(s.Throttles, user, acc)
	}

	increment := func() *rules.BanTimeIncrement {
		return &rules.BanTimeIncrement{Factor: 2, Max: d(24 * time.Hour), Remember: d(7 * 24 * time.Hour)}
	}
	// Failed sign-ins per account, keyed by the login email as Chatwoot
	// normalizes it (the same key as the preset's login/email).
	s.Fail2Ban = append(s.Fail2Ban, rules.BanRule{Name: StrictLoginFailures, Key: list("chatwoot:auth_email"),
		Match: post("/auth/sign_in"), Failure: &rules.Failure{Status: []int{401}}, Scope: "match",
		MaxRetry: n(10), FindTime: d(time.Hour), BanTime: d(time.Hour), BanTimeIncrement: increment(),
		TrustedFor: d(trusted), Mode: mode, Source: StrictSource})

	// Repeat offenders: addresses the authentication rules keep refusing.
	names := existingNames(base, s)
	var refusedBy rules.StringList
	for _, r := range strictAuthRules {
		if names[r] {
			refusedBy = append(refusedBy, r)
		}
	}
	s.Fail2Ban = append(s.Fail2Ban, rules.BanRule{Name: StrictRepeatOffenders, Key: list("ip"), Match: authRoutes(),
		Failure: &rules.Failure{RefusedBy: refusedBy}, Scope: "match",
		MaxRetry: n(20), FindTime: d(10 * time.Minute), BanTime: d(time.Hour), BanTimeIncrement: increment(),
		Mode: mode, Source: StrictSource})
	return s
}

func existingNames(specs ...rules.Spec) map[string]bool {
	out := map[string]bool{}
	for _, s := range specs {
		for _, r := range s.Throttles {
			out[r.Name] = true
		}
		for _, r := range slices.Concat(s.Fail2Ban, s.Allow2Ban) {
			out[r.Name] = true
		}
		for _, r := range s.Blocklists {
			out[r.Name] = true
		}
	}
	return out
}
