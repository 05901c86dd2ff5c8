package advisory

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wootguard/wootguard/internal/gemversion"
)

// DB is a set of advisories indexed by gem name.
type DB struct {
	Dir    string // ruby-advisory-db directory, "" if none
	OSVZip string // OSV zip added with AddOSVZip, "" if none
	byGem  map[string][]*Advisory
	count  int
}

// NewDB returns an empty database.
func NewDB() *DB { return &DB{byGem: map[string][]*Advisory{}} }

// ForGem returns the advisories for a gem, ruby-advisory-db first.
func (db *DB) ForGem(name string) []*Advisory { return db.byGem[name] }

// Len is the number of advisories.
func (db *DB) Len() int { return db.count }

// Newest is the latest advisory date, the DB's age when it is no git checkout.
func (db *DB) Newest() time.Time {
	var t time.Time
	for _, as := range db.byGem {
		for _, a := range as {
			if a.Date.After(t) {
				t = a.Date
			}
		}
	}
	return t
}

func (db *DB) add(a *Advisory) {
	db.byGem[a.Gem] = append(db.byGem[a.Gem], a)
	db.count++
}

// idPattern is ruby-advisory-db's file name rule.
var idPattern = regexp.MustCompile(`^(?:CVE-\d{4}-(?:0\d{3}|[1-9]\d{3,})|OSVDB-\d+|GHSA(?:-[a-z0-9]{4}){3})$`)

// rubysecFile mirrors spec/schemas/gem.yml. Unknown keys are tolerated so
// that a newer upstream schema does not break audits.
type rubysecFile struct {
	Gem                string   `yaml:"gem"`
	Library            string   `yaml:"library"`
	Framework          string   `yaml:"framework"`
	Platform           string   `yaml:"platform"`
	CVE                string   `yaml:"cve"`
	GHSA               string   `yaml:"ghsa"`
	OSVDB              int      `yaml:"osvdb"`
	URL                string   `yaml:"url"`
	Title              string   `yaml:"title"`
	Date               string   `yaml:"date"`
	Description        string   `yaml:"description"`
	CVSSv2             *float64 `yaml:"cvss_v2"`
	CVSSv3             *float64 `yaml:"cvss_v3"`
	CVSSv4             *float64 `yaml:"cvss_v4"`
	PatchedVersions    []string `yaml:"patched_versions"`
	UnaffectedVersions []string `yaml:"unaffected_versions"`
}

// LoadDir loads a ruby-advisory-db checkout (DIR/gems/<gem>/<ID>.yml).
// Any invalid advisory fails the load, listing every problem: an audit
// that silently skips advisories would report a false "clean".
func LoadDir(dir string) (*DB, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("advisory database %s not found: run 'wootguard audit --update' or pass --db DIR", dir)
		}
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("advisory database %s is not a directory", dir)
	}
	gems, err := os.ReadDir(filepath.Join(dir, "gems"))
	if err != nil {
		return nil, fmt.Errorf("%s has no gems/ directory: is it a ruby-advisory-db checkout? (%v)", dir, err)
	}
	type job struct{ path, gem string }
	var jobs []job
	var problems []error
	for _, g := range gems {
		if !g.IsDir() || strings.HasPrefix(g.Name(), ".") {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, "gems", g.Name()))
		if err != nil {
			problems = append(problems, err)
			continue
		}
		for _, f := range files {
			if !f.IsDir() && strings.HasSuffix(f.Name(), ".yml") {
				jobs = append(jobs, job{filepath.Join(dir, "gems", g.Name(), f.Name()), g.Name()})
			}
		}
	}
	// YAML decoding dominates an audit: spread it over the CPUs. Results
	// land by index, so the outcome does not depend on scheduling.
	loaded := make([]*Advisory, len(jobs))
	errs := make([]error, len(jobs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(jobs); i = int(next.Add(1) - 1) {
				loaded[i], errs[i] = loadRubySecFile(jobs[i].path, jobs[i].gem)
			}
		}()
	}
	wg.Wait()
	db := NewDB()
	db.Dir = dir
	for i, a := range loaded {
		if errs[i] != nil {
			problems = append(problems, errs[i])
		} else {
			db.add(a)
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("advisory database %s has %d invalid advisories:\n%w", dir, len(problems), errors.Join(problems...))
	}
	if db.count == 0 {
		return nil, fmt.Errorf("advisory database %s has no advisories under gems/", dir)
	}
	for _, as := range db.byGem {
		sort.Slice(as, func(i, j int) bool { return as[i].ID < as[j].ID })
	}
	return db, nil
}

func loadRubySecFile(path, dirGem string) (*Advisory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseRubySec(path, dirGem, data)
}

func parseRubySec(path, dirGem string, data []byte) (*Advisory, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...))
	}
	var f rubysecFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fail("%v", err)
	}
	id := strings.TrimSuffix(filepath.Base(path), ".yml")
	if !idPattern.MatchString(id) {
		return nil, fail("file name %q is not CVE-YYYY-NNNN, GHSA-xxxx-xxxx-xxxx or OSVDB-N", id)
	}
	switch {
	case f.Gem == "":
		return nil, fail("missing gem:")
	case !strings.EqualFold(f.Gem, dirGem):
		return nil, fail("gem: %q does not match its directory %q", f.Gem, dirGem)
	case f.URL == "":
		return nil, fail("missing url:")
	case f.Title == "":
		return nil, fail("missing title:")
	case f.Date == "":
		return nil, fail("missing date:")
	}
	// The id must be one of the advisory's own identifiers.
	switch {
	case strings.HasPrefix(id, "CVE-") && id != "CVE-"+f.CVE,
		strings.HasPrefix(id, "GHSA-") && id != "GHSA-"+f.GHSA,
		strings.HasPrefix(id, "OSVDB-") && id != "OSVDB-"+strconv.Itoa(f.OSVDB):
		return nil, fail("file name %s does not match the advisory's cve/ghsa/osvdb fields", id)
	}
	date, err := parseDate(f.Date)
	if err != nil {
		return nil, fail("date: %v", err)
	}
	for name, s := range map[string]*float64{"cvss_v2": f.CVSSv2, "cvss_v3": f.CVSSv3, "cvss_v4": f.CVSSv4} {
		if s != nil && (*s < 0 || *s > 10) {
			return nil, fail("%s %v is outside 0-10", name, *s)
		}
	}
	a := &Advisory{
		Feed: FeedRubySec, Path: path, ID: id, Gem: dirGem, Platform: f.Platform,
		Library: f.Library, Framework: f.Framework, CVE: f.CVE, GHSA: f.GHSA, OSVDB: f.OSVDB,
		URL: f.URL, Title: strings.TrimSpace(f.Title), Description: f.Description, Date: date,
		CVSSv2: f.CVSSv2, CVSSv3: f.CVSSv3, CVSSv4: f.CVSSv4,
		PatchedVersions: f.PatchedVersions, UnaffectedVersions: f.UnaffectedVersions,
	}
	if a.patched, err = parseRequirements(f.PatchedVersions); err != nil {
		return nil, fail("patched_versions: %v", err)
	}
	if a.unaffected, err = parseRequirements(f.UnaffectedVersions); err != nil {
		return nil, fail("unaffected_versions: %v", err)
	}
	return a, nil
}

func parseRequirements(ss []string) ([]gemversion.Requirement, error) {
	out := make([]gemversion.Requirement, 0, len(ss))
	for _, s := range ss {
		if strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("empty requirement")
		}
		r, err := gemversion.ParseAdvisoryRequirement(s)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02", time.RFC3339, "2006-01-02 15:04:05 -07:00", "2006-01-02T15:04:05Z"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (want YYYY-MM-DD)", s)
}
