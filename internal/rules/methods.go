package rules

import "slices"

// railsMethods are the request methods Rails accepts
// (ActionDispatch::Request::HTTP_METHODS, hyphenated WebDAV ones left
// out: a match.method must be one word). Any other method is refused by
// Rails before routing, so a rule on it could never fire.
var railsMethods = []string{
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", // RFC 2616, 5789
	"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", // RFC 2518
	"REPORT", "CHECKOUT", "CHECKIN", "UNCHECKOUT", "MKWORKSPACE", "UPDATE", "LABEL", "MERGE", "MKACTIVITY", // RFC 3253
	"ORDERPATCH", "ACL", "SEARCH", "MKCALENDAR", // RFC 3648, 3744, 5323, 4791
}

func knownMethod(m string) bool { return slices.Contains(railsMethods, m) }
