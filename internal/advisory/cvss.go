package advisory

import (
	"fmt"
	"math"
	"strings"
)

// cvss3Score computes the CVSS 3.x base score of a vector such as
// "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" (OSV gives vectors,
// ruby-advisory-db gives scores; criticality needs the score).
func cvss3Score(vector string) (float64, error) {
	parts := strings.Split(vector, "/")
	if len(parts) < 9 || !strings.HasPrefix(parts[0], "CVSS:3.") {
		return 0, fmt.Errorf("not a CVSS 3 vector: %q", vector)
	}
	m := map[string]string{}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, ":")
		if !ok {
			return 0, fmt.Errorf("bad CVSS metric %q", p)
		}
		m[k] = v
	}
	weights := map[string]map[string]float64{
		"AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
		"AC": {"L": 0.77, "H": 0.44},
		"UI": {"N": 0.85, "R": 0.62},
		"C":  {"H": 0.56, "L": 0.22, "N": 0},
		"I":  {"H": 0.56, "L": 0.22, "N": 0},
		"A":  {"H": 0.56, "L": 0.22, "N": 0},
	}
	w := map[string]float64{}
	for k, tab := range weights {
		x, ok := tab[m[k]]
		if !ok {
			return 0, fmt.Errorf("CVSS vector %q: bad or missing %s", vector, k)
		}
		w[k] = x
	}
	changed := m["S"] == "C"
	if m["S"] != "C" && m["S"] != "U" {
		return 0, fmt.Errorf("CVSS vector %q: bad or missing S", vector)
	}
	pr := map[string]float64{"N": 0.85, "L": 0.62, "H": 0.27}
	if changed {
		pr = map[string]float64{"N": 0.85, "L": 0.68, "H": 0.5}
	}
	prw, ok := pr[m["PR"]]
	if !ok {
		return 0, fmt.Errorf("CVSS vector %q: bad or missing PR", vector)
	}
	iss := 1 - (1-w["C"])*(1-w["I"])*(1-w["A"])
	impact := 6.42 * iss
	if changed {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	}
	if impact <= 0 {
		return 0, nil
	}
	expl := 8.22 * w["AV"] * w["AC"] * prw * w["UI"]
	if changed {
		return roundUp(math.Min(1.08*(impact+expl), 10)), nil
	}
	return roundUp(math.Min(impact+expl, 10)), nil
}

// roundUp is CVSS 3.1's Roundup: the smallest one-decimal number >= x.
func roundUp(x float64) float64 {
	i := int64(math.Round(x * 100000))
	if i%10000 == 0 {
		return float64(i) / 100000
	}
	return float64(i/10000+1) / 10
}
