package rules

import (
	"fmt"
	"strings"
)

// dottedPath is a path or path_prefix condition containing a ".". Once
// extensions are stripped a path has no "." left, so such a condition can
// never hold: it would silently switch its rule off.
type dottedPath struct {
	at, key, value string // at: the condition's document path
	view           pathView
}

func (c *compiler) noteDotted(path, key string, values []string, view pathView) {
	for i, v := range values {
		if strings.Contains(v, ".") {
			c.dotted = append(c.dotted, dottedPath{at: fmt.Sprintf("%s.%s[%d]", path, key, i), key: key, value: v, view: view})
		}
	}
}

// checkDotted refuses the dotted path conditions that read a path without
// extensions: their own extensions: strip, or the engine's default when
// strip is set (Options.StripExtension, as under the Chatwoot preset).
func (c *compiler) checkDotted(strip bool) {
	for _, d := range c.dotted {
		var why string
		switch {
		case d.view == viewStrip:
			why = "with extensions: strip"
		case d.view == viewDefault && strip:
			why = "the Chatwoot preset matches paths without extensions"
		default:
			continue
		}
		bare := StripExtension(d.value)
		if d.key == "path_prefix" {
			bare = d.value[:strings.IndexByte(d.value, '.')]
		}
		c.errf(d.at, "%s %q can never match: %s (everything from the first \".\" is dropped, so %q is seen as %q); write %q, or add extensions: keep to this match to see the whole path",
			d.key, d.value, why, d.value, bare, bare)
	}
}
