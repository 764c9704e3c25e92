package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal and returns its terminal side.
func openPTY(t *testing.T) *os.File {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skip("no pseudo-terminals here: ", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	fd := int(ptmx.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	return tty
}

// TestProgressForPicksBarOnTerminal: on a terminal the progress is a bar
// and log records go through it; elsewhere (a file) it is log lines and
// the logger is left as it is.
func TestProgressForPicksBarOnTerminal(t *testing.T) {
	log := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))

	sink, got := progressFor(openPTY(t), log)
	if _, ok := sink.(*barSink); !ok {
		t.Errorf("on a terminal: %T, want *barSink", sink)
	}
	if _, ok := got.Handler().(*barLogHandler); !ok {
		t.Errorf("on a terminal the logger's handler is %T, want *barLogHandler", got.Handler())
	}

	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sink, got = progressFor(f, log)
	if _, ok := sink.(*logSink); !ok {
		t.Errorf("on a file: %T, want *logSink", sink)
	}
	if got != log {
		t.Error("on a file the logger was changed")
	}
}
