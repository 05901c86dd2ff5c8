package rules

import "github.com/wootguard/wootguard/internal/railsreq"

// NormalizePath returns the path Rails routes: percent-escapes decoded
// (invalid escapes kept as they are), repeated slashes squeezed, the
// trailing slash dropped, and "" turned into "/". Rack::Attack inside
// Chatwoot sees the Journey-normalized path (not decoded); decoding is a
// deliberate difference, so "/auth/sign%5Fin" cannot dodge a rule.
//
// It does not allocate when the path needs no change.
func NormalizePath(p string) string { return railsreq.DecodedPath(p) }

// StripExtension drops everything from the first "." and then trailing
// slashes (Chatwoot's path_without_extensions: "/auth/sign_in.json" →
// "/auth/sign_in").
func StripExtension(p string) string { return railsreq.WithoutExtensions(p) }
