package chaos

import (
	"fmt"
	"net"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// inNetns runs fn on an OS thread that has joined the network namespace
// named ns (a name under /run/netns). Sockets and TUN devices opened by fn
// stay in that namespace after the thread leaves it. fn must not start
// goroutines that rely on the namespace.
func inNetns(ns string, fn func() error) error {
	target, err := os.Open("/run/netns/" + ns)
	if err != nil {
		return fmt.Errorf("open network namespace %s: %w", ns, err)
	}
	defer target.Close()
	return onOtherNetns(func() error {
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("join network namespace %s: %w", ns, err)
		}
		return nil
	}, fn)
}

// onOtherNetns runs fn on a locked OS thread that enter moved into another
// network namespace, then returns the thread to its own namespace. If enter
// fails, fn does not run. If the thread cannot return, it is left locked so
// that the runtime discards it when the goroutine ends.
func onOtherNetns(enter, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open own network namespace: %w", err)
			return
		}
		defer orig.Close()
		if err := enter(); err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		ferr := fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("return to own network namespace: %w", err) // stays locked
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// openTUN creates a TUN device named name (IPv4/IPv6 packets without the
// packet-information header) in network namespace ns and returns its file,
// registered with the runtime poller so that Close unblocks a Read. The
// device lives as long as the file is open, wherever the interface is
// moved.
func openTUN(ns, name string) (*os.File, error) {
	var f *os.File
	err := inNetns(ns, func() error {
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open /dev/net/tun: %w", err)
		}
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			unix.Close(fd)
			return fmt.Errorf("tun %s: %w", name, err)
		}
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
			unix.Close(fd)
			return fmt.Errorf("create tun %s: %w", name, err)
		}
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(fd)
			return fmt.Errorf("tun %s: non-blocking: %w", name, err)
		}
		f = os.NewFile(uintptr(fd), name)
		return nil
	})
	return f, err
}

// ListenPacket opens a packet socket (network "udp4", "udp" ...) inside
// host i's namespace, as a process on that host would; the suite's own
// probes and the tests use it. The socket stays in the host's namespace.
func (l *LAN) ListenPacket(host int, network, address string) (net.PacketConn, error) {
	if host < 0 || host >= len(l.hosts) {
		return nil, fmt.Errorf("chaos lan: no host %d", host)
	}
	var pc net.PacketConn
	err := inNetns(l.hosts[host].NS, func() error {
		var err error
		pc, err = net.ListenPacket(network, address)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("chaos lan: listen on %s: %w", l.hosts[host].Name, err)
	}
	return pc, nil
}
