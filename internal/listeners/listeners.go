// Package listeners finds which local addresses listen on a TCP port, by
// reading the kernel's socket tables (/proc/net/tcp and tcp6 on Linux),
// without sending any traffic. wootguard uses it to warn when Chatwoot's
// own port listens beyond the loopback, which lets clients bypass the
// gateway.
package listeners

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// Tables are the files read by Listening; tests point them elsewhere.
var Tables = []string{"/proc/net/tcp", "/proc/net/tcp6"}

// ErrUnsupported is returned where the socket tables cannot be read (not
// Linux, or /proc hidden).
var ErrUnsupported = errors.New("the socket tables (/proc/net/tcp) cannot be read here")

// Listening returns the local addresses with a socket listening on port.
func Listening(port uint16) ([]netip.Addr, error) {
	var out []netip.Addr
	read := 0
	for _, path := range Tables {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		addrs, err := parse(f, port)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		read++
		out = append(out, addrs...)
	}
	if read == 0 {
		return nil, ErrUnsupported
	}
	return out, nil
}

// Exposed returns the addresses listening on port that are not loopback:
// 0.0.0.0 / :: (every interface) or a specific external address.
func Exposed(port uint16) ([]netip.Addr, error) {
	all, err := Listening(port)
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, a := range all {
		if !a.Unmap().IsLoopback() {
			out = append(out, a)
		}
	}
	return out, nil
}

const stateListen = "0A"

func parse(r io.Reader, port uint16) ([]netip.Addr, error) {
	var out []netip.Addr
	sc := bufio.NewScanner(r)
	first := true
	for sc.Scan() {
		if first { // header line
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 4 || f[3] != stateListen {
			continue
		}
		hexAddr, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		p, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil || uint16(p) != port {
			continue
		}
		a, err := decodeAddr(hexAddr)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, sc.Err()
}

// decodeAddr reads the kernel's hex form: the address as 32-bit words in
// host byte order (little-endian on the machines wootguard runs on).
func decodeAddr(h string) (netip.Addr, error) {
	b, err := hex.DecodeString(h)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return netip.Addr{}, fmt.Errorf("bad address %q", h)
	}
	for i := 0; i < len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	a, _ := netip.AddrFromSlice(b)
	return a, nil
}
