package cvss

import "testing"

func TestScore3(t *testing.T) {
	tests := []struct {
		vector string
		want   float64
	}{
		// Scores as published with Chatwoot's advisories and NVD examples.
		{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:L/A:L", 9.1},
		{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:L/A:N", 8.5},
		{"CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:N", 6.8},
		{"CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:L", 6.7},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1},
		{"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 5.5},
		{"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10},
		{"CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 2.0},
		{"CVSS:3.0/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", 0},
	}
	for _, tt := range tests {
		got, err := Score3(tt.vector)
		if err != nil || got != tt.want {
			t.Errorf("%s = %v, %v; want %v", tt.vector, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "CVSS:2.0/AV:N", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:X/C:H/I:L/A:L",
		"CVSS:3.1/AV:Q/AC:L/PR:L/UI:N/S:U/C:H/I:L/A:L", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:L/Abad"} {
		if _, err := Score3(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
