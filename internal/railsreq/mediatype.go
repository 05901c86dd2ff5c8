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
	if i := strings.IndexAny(contentType, ";,"); i >= 0 {
		contentType = contentType[:i]
	}
	return asciiLower(strings.TrimRight(contentType, " \t\r\n\f\v\x00"))
}

// jsonTypes are the strings Rails 7.2's Mime registry maps to :json.
var jsonTypes = map[string]bool{"application/json": true, "text/x-json": true,
	"application/jsonrequest": true, "application/problem+json": true}

var mimeRE = regexp.MustCompile(`^(?:\*/\*|[a-zA-Z0-9][a-zA-Z0-9!#$&\-^_.+]{0,126}/(?:\*|[a-zA-Z0-9][a-zA-Z0-9!#$&\-^_.+]{0,126})[ \t\r\n\f\v]*)$`)

// railsContentType is ActionDispatch's content_mime_type: "json" for the
// JSON synonyms, "other" for another valid type, and an error for a type
// Mime::Type rejects (ActionDispatch then refuses the request's params).
func railsContentType(contentType string) (string, error) {
	t := contentType
	if i := strings.IndexAny(t, ";,"); i >= 0 {
		t = t[:i]
	}
	t = asciiLower(strings.Trim(t, " \t\r\n\f\v\x00"))
	if jsonTypes[t] {
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
