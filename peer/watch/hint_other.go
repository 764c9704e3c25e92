//go:build !linux

package watch

import "errors"

// newHints: only Linux (inotify's IN_CLOSE_WRITE) says when a file is
// complete; elsewhere every path waits for the debounce.
func newHints() (hintSource, error) {
	return nil, errors.New("watch: no completion hints on this platform")
}
