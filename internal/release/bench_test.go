package release

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func benchTestdata(b *testing.B, name string) []byte {
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// A GitHub releases page of 100 entries, the API's maximum.
func bigReleaseFeed() []byte {
	var items []string
	for i := 0; i < 100; i++ {
		items = append(items, fmt.Sprintf(`{"tag_name":"v4.%d.%d","name":"v4.%d.%d","draft":false,"prerelease":false,"published_at":"2026-06-17T12:00:00Z","html_url":"https://github.com/chatwoot/chatwoot/releases/tag/v4.%d.%d","body":"%s"}`,
			i/3, i%3, i/3, i%3, i/3, i%3, strings.Repeat("x", 2000)))
	}
	return []byte("[" + strings.Join(items, ",") + "]")
}

func BenchmarkParseReleases100(b *testing.B) {
	feed := bigReleaseFeed()
	b.SetBytes(int64(len(feed)))
	for b.Loop() {
		if _, err := ParseReleases(feed, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseGitHubAdvisories(b *testing.B) {
	data := benchTestdata(b, "chatwoot-security-advisories.json")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseGitHubAdvisories(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompute(b *testing.B) {
	rels, _ := ParseReleases(bigReleaseFeed(), false)
	advs, _ := ParseGitHubAdvisories(benchTestdata(b, "chatwoot-security-advisories.json"))
	in := Input{Running: MustParseVersion("4.10.0"), Releases: rels, ReleasesKnown: true, Advisories: advs, AdvisoriesKnown: true}
	for b.Loop() {
		if st := Compute(in); st.State != StateExposed {
			b.Fatal(st.State)
		}
	}
}

func BenchmarkParseVersion(b *testing.B) {
	for b.Loop() {
		if _, err := ParseVersion("v4.15.1-ce"); err != nil {
			b.Fatal(err)
		}
	}
}
