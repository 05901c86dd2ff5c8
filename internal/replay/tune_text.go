package replay

import (
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wootguard/wootguard/internal/rules"
)

// WriteText writes the proposal as a YAML fragment for wootguard.yaml and
// as a diff against the effective rules, each value with its cost.
func (t *TuneReport) WriteText(w io.Writer) error {
	p := &printer{w: w}
	p.f("# wootguard tune: %d requests from %s (%s)\n", t.Requests, strings.Join(t.Files, ", "), span(t.From, t.To))
	p.f("# proposed limit = p%s of per-key counts per window, among keys not excluded as abusive\n", trimFloat(t.Percentile))
	p.f("# (busiest window > %s × the median key's busiest window, and over the current limit), × headroom %s;\n",
		trimFloat(t.AbuseFactor), trimFloat(t.Headroom))
	p.f("# a rule with fewer than %d such keys keeps its current limit.\n", MinTuneKeys)
	if t.BadLines > 0 {
		p.f("# %s skipped (first: %s:%d: %s)\n", plural(t.BadLines, "bad line"), t.BadExamples[0].File, t.BadExamples[0].Line, t.BadExamples[0].Reason)
	}
	frag, err := t.YAML()
	if err != nil {
		return err
	}
	p.f("\n%s", frag)
	p.f("\n--- effective rules (%s)\n+++ proposed\n", t.Config)
	for _, pr := range t.Proposals {
		if pr.NoTraffic {
			p.f("  %s: limit %d per %s   # no traffic in the log\n", pr.Name, pr.Current, pr.Period)
			continue
		}
		if pr.FewKeys {
			p.f("  %s: limit %d per %s   # kept: %s; %s\n", pr.Name, pr.Current, pr.Period, pr.Basis, costText(pr.CurrentCost))
			continue
		}
		if pr.Proposed == pr.Current {
			p.f("  %s: limit %d per %s   # %s\n", pr.Name, pr.Current, pr.Period, costText(pr.CurrentCost))
			continue
		}
		p.f("- %s: limit %d per %s   # %s\n", pr.Name, pr.Current, pr.Period, costText(pr.CurrentCost))
		p.f("+ %s: limit %d per %s   # %s\n", pr.Name, pr.Proposed, pr.Period, costText(pr.ProposedCost))
	}
	return p.err
}

func costText(c Cost) string {
	if c.Requests == 0 {
		return "would have refused nothing in this log"
	}
	s := fmt.Sprintf("would have refused %s from %s", plural(c.Requests, "request"), plural(int64(c.Keys), "key"))
	switch {
	case c.LegitRequests == 0:
		return s + ", all from keys excluded as abusive"
	case c.LegitRequests == c.Requests:
		return s + ", none excluded as abusive"
	}
	return s + fmt.Sprintf(", of which %s from %s not excluded as abusive", plural(c.LegitRequests, "request"), plural(int64(c.LegitKeys), "key"))
}

// YAML is the proposal as a config fragment: full throttle definitions
// (a throttle in the file replaces the preset's one of the same name),
// each with a comment saying where its number comes from.
func (t *TuneReport) YAML() (string, error) {
	seq := &yaml.Node{Kind: yaml.SequenceNode}
	for _, pr := range t.Proposals {
		if pr.NoTraffic || pr.Proposed == pr.Current {
			continue
		}
		var spec *rules.Throttle
		for i := range t.spec.Throttles {
			if t.spec.Throttles[i].Name == pr.Name {
				spec = &t.spec.Throttles[i]
			}
		}
		if spec == nil {
			continue
		}
		n := &yaml.Node{}
		if err := n.Encode(throttleYAML(*spec, pr.Proposed)); err != nil {
			return "", err
		}
		n.HeadComment = fmt.Sprintf("%s: %d → %d (%s)\n%s", pr.Name, pr.Current, pr.Proposed, pr.Basis, costText(pr.ProposedCost))
		seq.Content = append(seq.Content, n)
	}
	if len(seq.Content) == 0 {
		return "# no limit to change (the diff below says why each is kept)\n", nil
	}
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "throttles"}, seq}}
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return "", err
	}
	return b.String(), enc.Close()
}

type yThrottle struct {
	Name   string   `yaml:"name"`
	Limit  int64    `yaml:"limit"`
	Period string   `yaml:"period"`
	Key    []string `yaml:"key,flow"`
	Match  *yMatch  `yaml:"match,omitempty"`
	Mode   string   `yaml:"mode,omitempty"`
}

type yMatch struct {
	Method       []string          `yaml:"method,omitempty,flow"`
	Path         []string          `yaml:"path,omitempty,flow"`
	PathPrefix   []string          `yaml:"path_prefix,omitempty,flow"`
	PathRegex    string            `yaml:"path_regex,omitempty"`
	ParamPresent []string          `yaml:"param_present,omitempty,flow"`
	ParamAbsent  []string          `yaml:"param_absent,omitempty,flow"`
	Header       map[string]string `yaml:"header,omitempty"`
	IP           []string          `yaml:"ip,omitempty,flow"`
	Any          []yMatch          `yaml:"any,omitempty"`
}

func throttleYAML(t rules.Throttle, limit int64) yThrottle {
	return yThrottle{Name: t.Name, Limit: limit, Period: t.Period.String(), Key: t.Key, Match: matchYAML(t.Match), Mode: t.Mode}
}

func matchYAML(m *rules.Match) *yMatch {
	if m == nil {
		return nil
	}
	y := &yMatch{Method: m.Method, Path: m.Path, PathPrefix: m.PathPrefix, PathRegex: m.PathRegex,
		ParamPresent: m.ParamPresent, ParamAbsent: m.ParamAbsent, Header: m.Header, IP: m.IP}
	for i := range m.Any {
		y.Any = append(y.Any, *matchYAML(&m.Any[i]))
	}
	return y
}

func plural(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
