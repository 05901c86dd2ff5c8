package release

import (
	"context"
	"fmt"
	"time"

	"github.com/wootguard/wootguard/internal/units"
)

// CheckOptions says where the data for one status check comes from.
type CheckOptions struct {
	Running Version // zero when unknown
	// RunningProblem explains an unknown Running (a failed probe).
	RunningProblem string
	RunningSource  string // "api", "login-page", "dir", "flag"

	Releases   string // URL or file; required
	Advisories string // URL or file; required
	OSV        string // URL, file or directory; optional
	IncludePre bool   // count pre-releases as releases
	Fetcher    *Fetcher
	// MaxFeedAge is how old a feed's data may be (since it was last
	// fetched; a local file: since it was modified) before the answer is
	// "unknown" rather than "up to date". 0 = DefaultMaxFeedAge.
	MaxFeedAge time.Duration
}

// FeedReport says how one feed was read. The stable JSON shape of
// `updates status --format json` includes it.
type FeedReport struct {
	Name      string     `json:"name"` // releases | advisories | osv
	Source    string     `json:"source"`
	OK        bool       `json:"ok"`         // data is available (fresh or cached)
	FromCache bool       `json:"from_cache"` // the feed failed; this is the cache
	FetchedAt *time.Time `json:"fetched_at,omitempty"`
	// AgeSeconds is how old the data is (for files: their modification time).
	AgeSeconds int64  `json:"age_seconds"`
	Problem    string `json:"problem,omitempty"` // why the feed failed
	// Stale is set when the data is older than the allowed age
	// (feeds.max_age, --max-feed-age): it may miss newer releases and
	// advisories, so it cannot vouch for "up to date".
	Stale bool `json:"stale,omitempty"`
}

// Report is a Status plus where its data came from.
type Report struct {
	Status
	ExitCode      int          `json:"exit_code"`
	RunningSource string       `json:"running_source,omitempty"`
	Feeds         []FeedReport `json:"feeds"`
	CheckedAt     time.Time    `json:"checked_at"`
}

// Check reads the feeds and computes the status.
func Check(ctx context.Context, o CheckOptions) Report {
	f := o.Fetcher
	if f == nil {
		f = &Fetcher{}
	}
	now := f.now()
	in := Input{Running: o.Running}
	var feeds []FeedReport

	rels, doc, err := LoadReleases(ctx, f, o.Releases, o.IncludePre)
	feeds = append(feeds, feedReport("releases", o.Releases, doc, err, now))
	if err == nil {
		in.Releases, in.ReleasesKnown = rels, true
	}
	gh, doc, err := LoadAdvisories(ctx, f, o.Advisories)
	feeds = append(feeds, feedReport("advisories", o.Advisories, doc, err, now))
	in.AdvisoriesKnown = err == nil
	var osv []Advisory
	if o.OSV != "" {
		var oerr error
		osv, doc, oerr = LoadOSV(ctx, f, o.OSV)
		feeds = append(feeds, feedReport("osv", o.OSV, doc, oerr, now))
		// OSV adds to the GitHub advisories; a broken OSV source makes the
		// answer incomplete, so it counts as missing advisory data.
		in.AdvisoriesKnown = in.AdvisoriesKnown && oerr == nil
	}
	in.Advisories = Merge(gh, osv)

	maxAge := o.MaxFeedAge
	if maxAge <= 0 {
		maxAge = DefaultMaxFeedAge
	}
	for i := range feeds {
		if f := &feeds[i]; f.OK && time.Duration(f.AgeSeconds)*time.Second > maxAge {
			f.Stale = true
			in.Stale = append(in.Stale, fmt.Sprintf("the %s feed's data is %s old (more than the allowed %s: feeds.max_age, --max-feed-age); it may miss newer releases and advisories: refresh it (%s)",
				f.Name, ageWords(time.Duration(f.AgeSeconds)*time.Second), units.FormatDuration(maxAge), f.Source))
		}
	}
	st := Compute(in)
	if o.RunningProblem != "" && o.Running.IsZero() {
		st.Unknown = append([]string{o.RunningProblem}, st.Unknown[1:]...)
	}
	return Report{Status: st, ExitCode: ExitCode(st.State), RunningSource: o.RunningSource, Feeds: feeds, CheckedAt: now}
}

func feedReport(name, source string, doc *Document, err error, now time.Time) FeedReport {
	r := FeedReport{Name: name, Source: source}
	if doc != nil {
		at := doc.FetchedAt
		r.FetchedAt = &at
		r.AgeSeconds = int64(doc.Age(now) / time.Second)
		r.FromCache = doc.FromCache
		if doc.Problem != nil {
			r.Problem = doc.Problem.Error()
		}
	}
	if err != nil {
		r.Problem = err.Error()
		return r
	}
	r.OK = true
	return r
}

// ageWords says an age the way an operator reads it: "3 hours", "12 days".
func ageWords(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return d.Round(time.Minute).String()
}
