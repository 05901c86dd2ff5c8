//go:build !linux

package main

import "os"

// ttyColumns is unknown off Linux: $COLUMNS or 100 is used.
func ttyColumns(*os.File) int { return 0 }
