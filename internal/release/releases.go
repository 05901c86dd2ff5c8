package release

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Release is one published Chatwoot release.
type Release struct {
	Tag        string    `json:"tag"`
	Version    Version   `json:"-"`
	Name       string    `json:"name,omitempty"`
	URL        string    `json:"url,omitempty"`
	Published  time.Time `json:"published,omitempty"`
	Prerelease bool      `json:"prerelease,omitempty"`
}

// ParseReleases reads a release feed in either form GitHub serves: the REST
// JSON array (api.github.com/repos/OWNER/REPO/releases) or the Atom feed
// (github.com/OWNER/REPO/releases.atom). Drafts are always dropped;
// pre-releases only kept with includePre. Tags that are not versions
// (nightly builds, "develop") are skipped.
func ParseReleases(data []byte, includePre bool) ([]Release, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '<' && !looksHTML(trimmed) {
		return parseAtom(trimmed, includePre)
	}
	return parseGitHubReleases(trimmed, includePre)
}

type githubRelease struct {
	TagName     string    `json:"tag_name"`
	Name        string    `json:"name"`
	HTMLURL     string    `json:"html_url"`
	Draft       bool      `json:"draft"`
	Prerelease  bool      `json:"prerelease"`
	PublishedAt time.Time `json:"published_at"`
	CreatedAt   time.Time `json:"created_at"`
}

func parseGitHubReleases(data []byte, includePre bool) ([]Release, error) {
	var raw []githubRelease
	if err := decodeJSON("release feed", data, &raw); err != nil {
		return nil, err
	}
	var out []Release
	for i, r := range raw {
		if r.TagName == "" {
			return nil, fmt.Errorf("release feed: entry %d has no tag_name (is this a GitHub releases list?)", i)
		}
		if r.Draft {
			continue
		}
		rel, ok := newRelease(r.TagName, r.Prerelease)
		if !ok || (rel.Prerelease && !includePre) {
			continue
		}
		rel.Name, rel.URL, rel.Published = r.Name, r.HTMLURL, r.PublishedAt
		if rel.Published.IsZero() {
			rel.Published = r.CreatedAt
		}
		out = append(out, rel)
	}
	return out, nil
}

type atomFeed struct {
	XMLName xml.Name    `xml:"feed"`
	Entries []atomEntry `xml:"entry"`
}

type atomEntry struct {
	ID      string     `xml:"id"`
	Title   string     `xml:"title"`
	Updated time.Time  `xml:"updated"`
	Links   []atomLink `xml:"link"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Href string `xml:"href,attr"`
}

// parseAtom reads releases.atom. The tag is the last path element of the
// entry's alternate link (…/releases/tag/v4.13.0), else of its id
// (tag:github.com,2008:Repository/123/v4.13.0). Atom has no pre-release
// flag, so a version label ("-rc1") decides.
func parseAtom(data []byte, includePre bool) ([]Release, error) {
	var feed atomFeed
	if err := xml.Unmarshal(data, &feed); err != nil {
		if strings.Contains(err.Error(), "EOF") {
			return nil, fmt.Errorf("release feed: truncated Atom XML: %v", err)
		}
		return nil, fmt.Errorf("release feed: not a valid Atom feed: %v", err)
	}
	var out []Release
	for _, e := range feed.Entries {
		tag, link := "", ""
		for _, l := range e.Links {
			if l.Rel == "alternate" || l.Rel == "" {
				link = l.Href
				if i := strings.Index(l.Href, "/releases/tag/"); i >= 0 {
					tag = l.Href[i+len("/releases/tag/"):]
				}
			}
		}
		if tag == "" {
			tag = e.ID[strings.LastIndex(e.ID, "/")+1:]
		}
		rel, ok := newRelease(tag, false)
		if !ok || (rel.Prerelease && !includePre) {
			continue
		}
		rel.Name, rel.URL, rel.Published = strings.TrimSpace(e.Title), link, e.Updated
		out = append(out, rel)
	}
	return out, nil
}

func newRelease(tag string, pre bool) (Release, bool) {
	v, err := ParseVersion(tag)
	if err != nil {
		return Release{}, false
	}
	return Release{Tag: tag, Version: v, Prerelease: pre || v.IsPrerelease()}, true
}

// Latest returns the newest release, and false when there is none.
func Latest(rs []Release) (Release, bool) {
	var best Release
	found := false
	for _, r := range rs {
		if !found || best.Version.Less(r.Version) {
			best, found = r, true
		}
	}
	return best, found
}

// Newer returns the distinct versions in rs newer than v, oldest first.
// "4.11.2" and "v4.11.2" (both exist as Chatwoot tags) count once.
func Newer(rs []Release, v Version) []Release {
	seen := map[string]bool{}
	var out []Release
	for _, r := range rs {
		key := Version{Major: r.Version.Major, Minor: r.Version.Minor, Patch: r.Version.Patch, Pre: r.Version.Pre}.String()
		if v.Less(r.Version) && !seen[key] {
			seen[key] = true
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version.Less(out[j].Version) })
	return out
}
