package peer

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// processUmask returns the process's umask without changing it, read from
// /proc/self/status (Linux 4.7 and later); 022 if it cannot be read.
func processUmask() os.FileMode {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return defaultUmask
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Umask:"); ok {
			if u, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
				return os.FileMode(u) & 0o777
			}
		}
	}
	return defaultUmask
}
