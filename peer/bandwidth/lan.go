package bandwidth

import (
	"net"
	"net/netip"
	"sync/atomic"
	"time"
)

// SubnetRefresh is how long the list of local subnets is used before it is
// read again (interfaces come and go: a laptop joins another network).
const SubnetRefresh = 10 * time.Second

// subnetCache answers whether an address is on a local subnet from a list
// read at most every SubnetRefresh. Several goroutines may read the list
// again at once; the last one stored wins.
type subnetCache struct {
	list func() ([]netip.Prefix, error)
	now  func() time.Time
	snap atomic.Pointer[subnetSnap]
}

type subnetSnap struct {
	at       time.Time
	prefixes []netip.Prefix
}

// contains says whether a is in one of the local subnets. A list that
// cannot be read counts as empty until the next refresh.
func (c *subnetCache) contains(a netip.Addr) bool {
	now := c.now()
	s := c.snap.Load()
	if s == nil || now.Sub(s.at) >= SubnetRefresh || now.Before(s.at) {
		ps, _ := c.list()
		s = &subnetSnap{at: now, prefixes: ps}
		c.snap.Store(s)
	}
	a = a.Unmap().WithZone("")
	for _, p := range s.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// interfacePrefixes lists the subnets of this host's interface addresses.
func interfacePrefixes() ([]netip.Prefix, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	var out []netip.Prefix
	for _, a := range addrs {
		if p, ok := prefixOf(a); ok {
			out = append(out, p)
		}
	}
	return out, nil
}

// prefixOf turns an interface address (*net.IPNet) into its subnet.
func prefixOf(a net.Addr) (netip.Prefix, bool) {
	n, ok := a.(*net.IPNet)
	if !ok {
		return netip.Prefix{}, false
	}
	ip, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ip = ip.Unmap()
	ones, bits := n.Mask.Size()
	if bits == 0 {
		return netip.Prefix{}, false
	}
	if ip.Is4() && bits == 128 {
		ones -= 96
	}
	p, err := ip.Prefix(ones)
	return p, err == nil
}

// AddrOf is the IP address of a network address (*net.UDPAddr,
// *net.TCPAddr, or "host:port"), or the zero Addr.
func AddrOf(a net.Addr) netip.Addr {
	switch v := a.(type) {
	case nil:
		return netip.Addr{}
	case *net.UDPAddr:
		ip, _ := netip.AddrFromSlice(v.IP)
		return ip.Unmap()
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(v.IP)
		return ip.Unmap()
	}
	return ParseAddr(a.String())
}

// ParseAddr is the IP address of "host:port" or of a bare IP, or the zero
// Addr (a host name is not looked up).
func ParseAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	ip, _ := netip.ParseAddr(s)
	return ip.Unmap()
}
