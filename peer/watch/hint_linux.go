//go:build linux

package watch

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// hintMask: a file opened for writing was closed, or a file or directory
// was renamed into a watched directory.
const hintMask = unix.IN_CLOSE_WRITE | unix.IN_MOVED_TO | unix.IN_ONLYDIR

// inotifyHints is a second inotify instance beside fsnotify's (fsnotify
// does not export IN_CLOSE_WRITE) that watches the same directories for
// the events that say a file is complete. Its reader goroutine sends each
// as a rawHint; the Watcher's goroutine resolves the watch descriptor.
type inotifyHints struct {
	// fd is the inotify descriptor for adding and removing watches (never
	// f.Fd(), which would make f blocking: its Read would then outlive
	// Close); the Watcher adds and removes only before it closes f.
	fd  int
	f   *os.File // the same, non-blocking: Close ends a Read
	out chan rawHint
}

func newHints() (hintSource, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("watch: hints: %w", err)
	}
	return &inotifyHints{fd: fd, f: os.NewFile(uintptr(fd), "inotify-hints"), out: make(chan rawHint, 256)}, nil
}

func (h *inotifyHints) add(dir string) (int, error) {
	wd, err := unix.InotifyAddWatch(h.fd, dir, hintMask)
	if err != nil {
		return -1, fmt.Errorf("watch: hints: add %s: %w", dir, err)
	}
	return wd, nil
}

func (h *inotifyHints) remove(wd int) {
	_, _ = unix.InotifyRmWatch(h.fd, uint32(wd))
}

func (h *inotifyHints) events() <-chan rawHint { return h.out }

// run reads events until the descriptor is closed or stop is closed. A
// lost hint (a queue overflow, a read error that ends the hints) only
// costs its path the debounce: fsnotify still reports it.
func (h *inotifyHints) run(stop <-chan struct{}) {
	var buf [64 * (unix.SizeofInotifyEvent + unix.NAME_MAX + 1)]byte
	for {
		n, err := h.f.Read(buf[:])
		if err != nil {
			return
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			end := off + unix.SizeofInotifyEvent + int(ev.Len)
			if end > n {
				break
			}
			name := buf[off+unix.SizeofInotifyEvent : end]
			for len(name) > 0 && name[len(name)-1] == 0 {
				name = name[:len(name)-1]
			}
			off = end
			if ev.Mask&(unix.IN_CLOSE_WRITE|unix.IN_MOVED_TO) == 0 || len(name) == 0 {
				continue // IN_IGNORED, IN_Q_OVERFLOW, or about the directory itself
			}
			select {
			case h.out <- rawHint{wd: int(ev.Wd), name: string(name)}:
			case <-stop:
				return
			}
		}
	}
}

func (h *inotifyHints) close() error { return h.f.Close() }
