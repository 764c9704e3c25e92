package chaos

import (
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkLANForward measures the forwarder with no impairment: 1400-byte
// datagrams from one host to another, at most 128 in flight.
func BenchmarkLANForward(b *testing.B) {
	if err := LANAvailable(); err != nil {
		b.Skip(err)
	}
	l, err := NewLAN(b.Context(), LANConfig{Hosts: []string{"a", "b"}})
	if errors.Is(err, ErrNoNamespaces) {
		b.Skip(err)
	}
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	pa, err := l.ListenPacket(0, "udp4", netip.AddrPortFrom(l.Hosts()[0].IP, lanTestPort).String())
	if err != nil {
		b.Fatal(err)
	}
	defer pa.Close()
	pb, err := l.ListenPacket(1, "udp4", netip.AddrPortFrom(l.Hosts()[1].IP, lanTestPort).String())
	if err != nil {
		b.Fatal(err)
	}
	defer pb.Close()
	pb.(*net.UDPConn).SetReadBuffer(4 << 20)
	var got atomic.Int64
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := pb.ReadFrom(buf); err != nil {
				return
			}
			got.Add(1)
		}
	}()
	dst := net.UDPAddrFromAddrPort(netip.AddrPortFrom(l.Hosts()[1].IP, lanTestPort))
	msg := make([]byte, 1400)
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	lost := int64(0)
	for i := range b.N {
		for stalled := time.Now(); int64(i)-got.Load()-lost > 128; {
			if time.Since(stalled) > time.Second { // a drop on the way: stop waiting for it
				lost = int64(i) - got.Load()
				break
			}
			time.Sleep(20 * time.Microsecond)
		}
		if _, err := pa.WriteTo(msg, dst); err != nil {
			b.Fatal(err)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); got.Load()+lost < int64(b.N) && time.Now().Before(deadline); {
		time.Sleep(100 * time.Microsecond)
	}
	b.ReportMetric(float64(int64(b.N)-got.Load()), "lost")
}
