// Package cvss scores CVSS v3.0/v3.1 base vectors (OSV and GitHub give
// vectors; the audit and the update status need numbers).
package cvss

import (
	"fmt"
	"math"
	"strings"
)

// Score3 computes the CVSS v3.0/v3.1 base score of a vector such as
// "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:L/A:N" (OSV gives vectors, not
// scores). Temporal and environmental metrics are ignored.
func Score3(vector string) (float64, error) {
	parts := strings.Split(strings.TrimSpace(vector), "/")
	if len(parts) < 9 || !strings.HasPrefix(parts[0], "CVSS:3.") {
		return 0, fmt.Errorf("not a CVSS v3 vector: %q", vector)
	}
	m := map[string]string{}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, ":")
		if !ok {
			return 0, fmt.Errorf("CVSS vector %q: bad metric %q", vector, p)
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
	get := func(k string) (float64, error) {
		w, ok := weights[k][m[k]]
		if !ok {
			return 0, fmt.Errorf("CVSS vector %q: missing or bad %s", vector, k)
		}
		return w, nil
	}
	scope := m["S"]
	if scope != "U" && scope != "C" {
		return 0, fmt.Errorf("CVSS vector %q: missing or bad S", vector)
	}
	pr := map[string]float64{"N": 0.85, "L": 0.62, "H": 0.27}[m["PR"]]
	if scope == "C" {
		pr = map[string]float64{"N": 0.85, "L": 0.68, "H": 0.5}[m["PR"]]
	}
	if pr == 0 {
		return 0, fmt.Errorf("CVSS vector %q: missing or bad PR", vector)
	}
	var w [6]float64
	for i, k := range []string{"AV", "AC", "UI", "C", "I", "A"} {
		var err error
		if w[i], err = get(k); err != nil {
			return 0, err
		}
	}
	av, ac, ui, c, in, a := w[0], w[1], w[2], w[3], w[4], w[5]
	iss := 1 - (1-c)*(1-in)*(1-a)
	impact := 6.42 * iss
	if scope == "C" {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	}
	exploitability := 8.22 * av * ac * pr * ui
	if impact <= 0 {
		return 0, nil
	}
	if scope == "U" {
		return roundUp(math.Min(impact+exploitability, 10)), nil
	}
	return roundUp(math.Min(1.08*(impact+exploitability), 10)), nil
}

// roundUp is CVSS v3.1's Roundup: the smallest one-decimal number >= x,
// computed on integers to dodge floating-point error.
func roundUp(x float64) float64 {
	i := int64(math.Round(x * 100000))
	if i%10000 == 0 {
		return float64(i) / 100000
	}
	return (math.Floor(float64(i)/10000) + 1) / 10
}
