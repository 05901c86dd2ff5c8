package rules

import (
	"strings"
	"testing"

	"github.com/wootguard/wootguard/internal/store/memory"
)

// A path condition with a "." can never hold on a path without
// extensions, so Compile refuses it there and accepts it where the whole
// path is seen.
func TestDottedPathUnderStrippedView(t *testing.T) {
	tests := []struct {
		name  string
		strip bool
		match Match
		want  string // "" = compiles
	}{
		{"path, engine strips", true, Match{Path: StringList{"/feed.xml"}}, `throttles[0].match.path[0]: path "/feed.xml" can never match: the Chatwoot preset matches paths without extensions`},
		{"path_prefix, engine strips", true, Match{PathPrefix: StringList{"/x", "/files.v2/"}}, `throttles[0].match.path_prefix[1]: path_prefix "/files.v2/" can never match`},
		{"rule strips", false, Match{Path: StringList{"/feed.xml"}, Extensions: "strip"}, `path "/feed.xml" can never match: with extensions: strip`},
		{"any alternative, engine strips", true, Match{Any: []Match{{Path: StringList{"/a"}}, {Path: StringList{"/b.json"}}}}, `throttles[0].match.any[1].path[0]: path "/b.json"`},
		{"engine keeps", false, Match{Path: StringList{"/feed.xml"}}, ""},
		{"rule keeps", true, Match{Path: StringList{"/feed.xml"}, Extensions: "keep"}, ""},
		{"rule exact", true, Match{PathPrefix: StringList{"/feed.xml"}, Extensions: "exact"}, ""},
		{"no dot", true, Match{Path: StringList{"/feed"}, PathPrefix: StringList{"/api/"}}, ""},
	}
	one := int64(1)
	st := memory.New(memory.Options{SweepEvery: -1})
	defer st.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.match
			_, err := Compile(Spec{Throttles: []Throttle{{Name: "t", Limit: &one, Period: Duration(60e9), Key: StringList{"ip"}, Match: &m}}},
				Options{Store: st, StripExtension: tt.strip})
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
