package listeners

import (
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tcp := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 00000000:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 100 0 0 10 0
   3: 0500000A:0BB8 0600000A:D431 01 00000000:00000000 00:00000000 00000000     0        0 4 1 0000000000000000 100 0 0 10 0
`
	got, err := parse(strings.NewReader(tcp), 3000)
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("0.0.0.0")}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v (the ESTABLISHED line is not a listener)", got, want)
	}
	tcp6 := `  sl  local_address                         remote_address                        st
   0: 00000000000000000000000001000000:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000
   1: 00000000000000000000000000000000:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000
`
	got, _ = parse(strings.NewReader(tcp6), 3000)
	if want := []netip.Addr{netip.MustParseAddr("::1"), netip.MustParseAddr("::")}; !slices.Equal(got, want) {
		t.Errorf("tcp6: got %v, want %v", got, want)
	}
}

// The real table of this machine shows a listener we open on loopback,
// and Exposed does not count it.
func TestListeningRealSocket(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, ps, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(ps)
	all, err := Listening(uint16(p))
	if err == ErrUnsupported {
		t.Skip(err)
	}
	if err != nil || !slices.Contains(all, netip.MustParseAddr("127.0.0.1")) {
		t.Fatalf("Listening(%d) = %v, %v", p, all, err)
	}
	if ex, _ := Exposed(uint16(p)); len(ex) != 0 {
		t.Errorf("Exposed = %v, want none for a loopback listener", ex)
	}
}
