package railsreq

import (
	"regexp"
	"strings"
)

// RackMediaType is Rack::MediaType.type: the text before the first ";"
// or ",", right-stripped and lower-cased; "" when there is no
// Content-Type (or an empty one).
func RackMediaType(contentType string) string {
	if contentType == "" {
		return ""
	}
	t := beforeParams(contentType)
	for t != "" && isMediaTypeSpace(t[len(t)-1]) {
		t = t[:len(t)-1]
	}
	return asciiLower(t)
}

// beforeParams is s up to its first ";" or ",".
func beforeParams(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == ';' || s[i] == ',' {
			return s[:i]
		}
	}
	return s
}

// isMediaTypeSpace is a byte Ruby's strip removes: white space and NUL.
func isMediaTypeSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '\f', '\v', 0:
		return true
	}
	return false
}

var mimeRE = regexp.MustCompile(`^(?:\*/\*|[a-zA-Z0-9][a-zA-Z0-9!#$&\-^_.+]{0,126}/(?:\*|[a-zA-Z0-9][a-zA-Z0-9!#$&\-^_.+]{0,126})[ \t\r\n\f\v]*)$`)

// railsContentType is ActionDispatch's content_mime_type: "json" for the
// JSON synonyms (the strings Rails 7.2's Mime registry maps to :json),
// "other" for another valid type, and an error for a type Mime::Type
// rejects (ActionDispatch then refuses the request's params).
func railsContentType(contentType string) (string, error) {
	return railsMediaKind(RackMediaType(contentType))
}

// railsMediaKind is railsContentType of a Content-Type whose
// RackMediaType is rackType: ActionDispatch strips both ends where Rack
// strips the right one, and lower-cases the same text.
func railsMediaKind(rackType string) (string, error) {
	t := rackType
	for t != "" && isMediaTypeSpace(t[0]) {
		t = t[1:]
	}
	switch t {
	case "application/json", "text/x-json", "application/jsonrequest", "application/problem+json":
		return "json", nil
	}
	if !mimeRE.MatchString(t) {
		return "", errBadMediaType
	}
	return "other", nil
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return strings.Map(func(r rune) rune {
				if 'A' <= r && r <= 'Z' {
					return r + 'a' - 'A'
				}
				return r
			}, s)
		}
	}
	return s
}
