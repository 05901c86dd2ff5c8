package replay

import (
	"encoding/json"
	"fmt"
	"testing"
	"unicode/utf8"
)

var flatJSONSeeds = []string{
	`{"ts":"2026-11-30T10:00:10.000Z","client_ip":"198.51.100.7","status":200,"duration_ms":1.5,"ok":true,"x":null}`,
	` { "a" : "b\"c\\d\u00e9\n" , "n": -1.5e3 } `,
	`{"nested":{"a":[1,{"b":"}"}],"c":"]"},"arr":[],"after":"yes"}`,
	`{}`,
	`{"a":"unterminated}`,
	`{"a":1,}`,
	`{"a" 1}`,
	`["not","an","object"]`,
	`{"a":1} trailing`,
	`{"a":tru}`,
	`{"a":"ctl` + "\x01" + `"}`,
	`not json`,
	``,
}

// scanObject agrees with encoding/json on what a valid flat object holds,
// and refuses what encoding/json refuses (for the top level it reads).
func TestScanObjectAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range flatJSONSeeds {
		checkScanObject(t, s)
	}
}

func FuzzScanObject(f *testing.F) {
	for _, s := range flatJSONSeeds {
		f.Add(s)
	}
	f.Fuzz(checkScanObject)
}

func checkScanObject(t *testing.T, s string) {
	fields, err := scanObject(s, nil)
	if !utf8.ValidString(s) {
		return // encoding/json rewrites invalid UTF-8; scanObject keeps the bytes
	}
	var want map[string]json.RawMessage
	werr := json.Unmarshal([]byte(s), &want)
	if werr != nil {
		// encoding/json is stricter inside nested values and numbers; a
		// line it refuses may only be accepted when the top level is sound
		// and the fault is somewhere scanObject keeps raw.
		if err == nil {
			for _, f := range fields {
				if f.kind == '"' {
					var v string
					if json.Unmarshal(mustQuote(f.val), &v) != nil {
						t.Fatalf("%q: accepted a bad string %q", s, f.val)
					}
				}
			}
		}
		return
	}
	if want == nil {
		return // a JSON null: encoding/json leaves the map nil; it is no object, and scanObject rightly refuses it
	}
	if err != nil {
		t.Fatalf("%q: %v, but encoding/json reads it", s, err)
	}
	got := map[string]jsonField{}
	for _, f := range fields {
		got[f.key] = f // the last one wins, as in encoding/json
	}
	if len(got) != len(want) {
		t.Fatalf("%q: %d members, want %d", s, len(got), len(want))
	}
	for k, raw := range want {
		f, ok := got[k]
		if !ok {
			t.Fatalf("%q: member %q missing", s, k)
		}
		var v any
		json.Unmarshal(raw, &v)
		switch x := v.(type) {
		case string:
			if f.kind != '"' || f.val != x {
				t.Fatalf("%q: %q = %q (%c), want string %q", s, k, f.val, f.kind, x)
			}
		case float64:
			if f.kind != '0' || f.val != string(raw) {
				t.Fatalf("%q: %q = %q, want number %s", s, k, f.val, raw)
			}
		case nil:
			if f.kind != 'n' {
				t.Fatalf("%q: %q not null", s, k)
			}
		case bool:
			if f.kind != 't' || f.val != fmt.Sprint(x) {
				t.Fatalf("%q: %q = %q, want %v", s, k, f.val, x)
			}
		default:
			if f.kind != '{' || f.val != string(raw) {
				t.Fatalf("%q: %q = %q, want %s", s, k, f.val, raw)
			}
		}
	}
}

func mustQuote(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}
