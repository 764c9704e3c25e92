package discovery

import (
	"context"
	"fmt"
	"net"
	"net/netip"
)

// Target is where one interface's packets go: the interface's subnet
// broadcast address (Dest, on the discovery port) and this host's address
// on that interface (Local), which an announcement sent there names.
type Target struct {
	Dest  netip.AddrPort
	Local netip.Addr
}

// listen binds the discovery port on every address, shared with the
// host's other DartSync processes.
func listen(ctx context.Context, port int) (*net.UDPConn, error) {
	lc := net.ListenConfig{Control: reuse}
	pc, err := lc.ListenPacket(ctx, "udp4", fmt.Sprintf("0.0.0.0:%d", port))
	if err != nil {
		return nil, fmt.Errorf("%w: listen on UDP port %d: %w", ErrUnavailable, port, err)
	}
	return pc.(*net.UDPConn), nil
}

// InterfaceTargets returns a Target for every IPv4 address of every
// interface that is up, is not a loopback and can broadcast, sending to
// port. When only is valid (a tracker listening on one address), only that
// address's interface is a target.
func InterfaceTargets(port int, only netip.Addr) []Target {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var ts []Target
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 || ifc.Flags&net.FlagBroadcast == 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if t, ok := targetOf(a, port); ok && (!only.IsValid() || only.Unmap() == t.Local) {
				ts = append(ts, t)
			}
		}
	}
	return ts
}

// targetOf is the Target of one interface address: its subnet's broadcast
// address (every host bit set). A /31 or /32 has no broadcast address.
func targetOf(a net.Addr, port int) (Target, bool) {
	ipn, ok := a.(*net.IPNet)
	if !ok {
		return Target{}, false
	}
	ip4 := ipn.IP.To4()
	ones, bits := ipn.Mask.Size()
	if ip4 == nil || bits != 32 || ones > 30 || !ip4.IsGlobalUnicast() {
		return Target{}, false
	}
	var bc [4]byte
	for i := range bc {
		bc[i] = ip4[i] | ^ipn.Mask[i]
	}
	local, _ := netip.AddrFromSlice(ip4)
	return Target{Dest: netip.AddrPortFrom(netip.AddrFrom4(bc), uint16(port)), Local: local}, true
}
