package preset

// Difference is one way the Chatwoot preset deliberately counts more
// (or more exactly) than Chatwoot's own rack_attack.rb. Anything else
// that differs is a bug. The README's table lists the same entries (a
// test compares them) and the oracle test tags the requests that show
// each one.
type Difference struct {
	ID     string // short name used by tests
	What   string
	Reason string
}

// Differences are all the deliberate differences, in the README's order.
var Differences = []Difference{
	{"percent-decoding", "Paths are percent-decoded before matching (`/auth/sign%5Fin` is `/auth/sign_in`); the `/health` safelist alone compares the exact path.",
		"Rails routes the decoded path, so an escape must not dodge a throttle."},
	{"query-over-body", "Param keys (email, tokens) read ActionDispatch's params, where the query string wins over the body.",
		"That is the value Devise and the controllers authenticate with; Chatwoot's Rack params let the body win."},
	{"allowed-ips-cidr", "`RACK_ATTACK_ALLOWED_IPS` accepts CIDRs (`10.0.0.0/8`) as well as addresses.",
		"Chatwoot compares strings, so a CIDR there silently never matched."},
	{"numbers-keep-default", "A limit that does not parse (`RACK_ATTACK_LIMIT=`, `lots`, `-5`) keeps its default, with a warning.",
		"Chatwoot's `to_i` makes it 0, which throttles every request."},
	{"ipv6-prefix", "IPv6 clients are keyed by their /64 (`client_ip.ipv6_prefix`); an IPv4 client is one address.",
		"One host owns a whole /64: per-address keys let it rotate addresses forever."},
	{"record-id-aliases", "Account (and conversation, agent) ids are any path segment Ruby's `to_i` reads as a number, keyed by it: `/accounts/09/` and `/accounts/9-x/` are account 9.",
		"Rails' `Account.find` reads them so; Chatwoot's `\\d+` let each alias have its own bucket or none."},
	{"super-admin-nested-email", "`super_admin_login/email` keys `super_admin[email]` first (what the controller authenticates), else `email`; an array or hash there counts as `<unparsed>:CLIENT`; with neither, the shared `\"\"` bucket stays.",
		"The super-admin form posts the nested name, so Chatwoot's rule never keyed on the email."},
	{"fail-closed", "When Rails' params cannot be known (unparseable JSON, a malformed form, multipart or query, invalid UTF-8, a Content-Type Rails rejects), a rule that reads a param counts the request as `<unparsed>:CLIENT` and its param conditions hold.",
		"Chatwoot's `auth_param` rescues to nil and skips the rule; a throttle must not be switched off by a body it cannot read."},
	{"unread-form-override", "A form or multipart POST whose body no rule needs is not read: it stays a POST for the POST rules, whatever `_method` or `X-HTTP-Method-Override` it carries.",
		"Finding `_method` would mean buffering every upload; as a POST it can only be counted by more rules (a rule of another method that could match makes wootguard read the body)."},
	{"uploaded-file-key", "A param that is an uploaded file keys as `<file>`.",
		"In Ruby its to_s carries an object address: a new bucket per request."},
	{"rails-env-ignored", "`RAILS_ENV` is not read: the preset applies whatever it says.",
		"Chatwoot's `.env.example` says development while its compose file runs production; protection must not hinge on it."},
}
