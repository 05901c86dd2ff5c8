package release

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// decodeJSON unmarshals a feed body and words the usual failures so an
// operator knows what went wrong: a proxy's HTML error page, a cut-off
// download, or a body of the wrong shape.
func decodeJSON(what string, data []byte, v any) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return fmt.Errorf("%s: empty body", what)
	}
	if looksHTML(trimmed) {
		return fmt.Errorf("%s: got an HTML page instead of JSON (an error or login page from a proxy?)", what)
	}
	err := json.Unmarshal(trimmed, v)
	if err == nil {
		return nil
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err.Error() == "unexpected end of JSON input":
		return fmt.Errorf("%s: truncated JSON (the download was cut off after %d bytes)", what, len(data))
	case errors.As(err, &syn):
		return fmt.Errorf("%s: not valid JSON at byte %d: %v", what, syn.Offset, err)
	case errors.As(err, &typ):
		return fmt.Errorf("%s: unexpected JSON shape: field %q is %s, want %s", what, typ.Field, typ.Value, typ.Type)
	}
	return fmt.Errorf("%s: %v", what, err)
}

func looksHTML(b []byte) bool {
	head := bytes.ToLower(b[:min(len(b), 512)])
	return bytes.HasPrefix(head, []byte("<!doctype html")) || bytes.HasPrefix(head, []byte("<html")) ||
		bytes.Contains(head, []byte("<head>")) || bytes.Contains(head, []byte("<body"))
}
