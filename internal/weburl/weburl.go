// Package weburl checks the http(s) URLs a config names (Chatwoot's
// upstream, webhooks, probes): one rule for all of them. It is a leaf
// package, so that internal/config and the packages it imports (notify)
// share it without an import cycle.
package weburl

import (
	"errors"
	"net/url"
)

// ErrNotHTTP is Parse's error: callers wrap it with what the URL is for.
var ErrNotHTTP = errors.New("not an http(s) URL with a host")

// Parse parses s and accepts it only as an http or https URL with a host.
func Parse(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, ErrNotHTTP
	}
	return u, nil
}
