package release

import (
	"context"
	"fmt"
)

// ChatwootReleasesURL and ChatwootAdvisoriesURL are the default feeds.
const (
	ChatwootReleasesURL   = "https://api.github.com/repos/chatwoot/chatwoot/releases?per_page=100"
	ChatwootAdvisoriesURL = "https://api.github.com/repos/chatwoot/chatwoot/security-advisories?per_page=100"
)

// LoadReleases fetches and parses a release feed (REST JSON or Atom).
func LoadReleases(ctx context.Context, f *Fetcher, source string, includePre bool) ([]Release, *Document, error) {
	var out []Release
	parse := func(b []byte) error {
		var err error
		out, err = ParseReleases(b, includePre)
		return err
	}
	doc, err := f.Fetch(ctx, source, parse)
	if err != nil {
		return nil, nil, err
	}
	if len(doc.Files) != 1 {
		return nil, doc, fmt.Errorf("release feed %s: want one file, got a directory of %d", source, len(doc.Files))
	}
	if err := parse(doc.Files[0].Body); err != nil {
		return nil, doc, fmt.Errorf("%s: %w", doc.Files[0].Name, err)
	}
	return out, doc, nil
}

// LoadAdvisories fetches and parses GitHub repository security advisories.
func LoadAdvisories(ctx context.Context, f *Fetcher, source string) ([]Advisory, *Document, error) {
	return loadAdvisoryFiles(ctx, f, source, ParseGitHubAdvisories)
}

// LoadOSV fetches and parses OSV records: one record, a JSON list, or a
// directory of record files; only Chatwoot's records are kept.
func LoadOSV(ctx context.Context, f *Fetcher, source string) ([]Advisory, *Document, error) {
	return loadAdvisoryFiles(ctx, f, source, ParseOSV)
}

func loadAdvisoryFiles(ctx context.Context, f *Fetcher, source string, parse func([]byte) ([]Advisory, error)) ([]Advisory, *Document, error) {
	doc, err := f.Fetch(ctx, source, func(b []byte) error { _, err := parse(b); return err })
	if err != nil {
		return nil, nil, err
	}
	var all []Advisory
	for _, file := range doc.Files {
		as, err := parse(file.Body)
		if err != nil {
			return nil, doc, fmt.Errorf("%s: %w", file.Name, err)
		}
		all = append(all, as...)
	}
	return all, doc, nil
}
