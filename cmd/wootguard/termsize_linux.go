package main

import (
	"os"
	"syscall"
	"unsafe"
)

// ttyColumns asks the terminal behind f for its width (0 when unknown).
func ttyColumns(f *os.File) int {
	var ws struct{ Row, Col, X, Y uint16 }
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), uintptr(syscall.TIOCGWINSZ), uintptr(unsafe.Pointer(&ws))); errno != 0 {
		return 0
	}
	return int(ws.Col)
}
