// Package editdist measures how far a typed word is from a known one, for
// the "did you mean" hints of the CLI and the config checks.
package editdist

// Distance is the number of single-byte insertions, deletions,
// substitutions and swaps of two neighbours that turn a into b (the
// optimal string alignment distance). Swaps count once because they are
// the commonest typo: "updaets" is one step from "updates".
func Distance(a, b string) int {
	// rows i-2, i-1 and i of the table
	prev2, prev, cur := make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
