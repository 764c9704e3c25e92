package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestStatusWatchTerminal: on a terminal, --watch redraws in place: each
// refresh clears the screen and moves the cursor home before the status.
func TestStatusWatchTerminal(t *testing.T) {
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skip("no pseudo-terminals here: ", err)
	}
	defer ptmx.Close()
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
	defer tty.Close()
	state := servePeerAPI(t, baseStatus())
	ctx, cancel := context.WithCancel(context.Background())
	c := statusCmd{Dir: t.TempDir(), State: state, Watch: true, Interval: 20 * time.Millisecond, stdout: tty}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, slog.New(slog.DiscardHandler)) }()
	var got []byte
	buf := make([]byte, 4096)
	for bytes.Count(got, []byte(clearScreen+"peer AAAAAAA")) < 2 {
		if err := ptmx.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Skip("no read deadline on this terminal: ", err)
		}
		k, err := ptmx.Read(buf)
		if err != nil {
			t.Fatalf("read the terminal: %v (so far %q)", err, got)
		}
		got = append(got, buf[:k]...)
	}
	cancel()
	go func() { // drain: the command's last write must not block
		for {
			if _, err := ptmx.Read(buf); err != nil {
				return
			}
		}
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
