package advisory

import (
	"testing"

	"github.com/wootguard/wootguard/internal/gemlock"
)

// BenchmarkAuditChatwoot is one whole audit as the CLI does it: load the
// advisory subset, parse Chatwoot v4.15.1's Gemfile.lock, match.
func BenchmarkAuditChatwoot(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		db, err := LoadDir(testDB)
		if err != nil {
			b.Fatal(err)
		}
		lf, err := gemlock.ParseFile("testdata/v4.15.1.Gemfile.lock")
		if err != nil {
			b.Fatal(err)
		}
		if rep := Audit(lf, db, Options{}); len(rep.Findings) != 49 {
			b.Fatalf("%d findings", len(rep.Findings))
		}
	}
}
