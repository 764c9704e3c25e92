package chaos

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Unreachable cuts every link between hosts of different groups the way a
// host sees a vanished network: inside each host's namespace, a route
// `unreachable ADDR/32` for every host of another group, so sends fail at
// once with "no route to host" (Partition, by contrast, drops packets
// silently in the forwarder). It replaces any partition in force; Heal
// removes the routes.
func (l *LAN) Unreachable(groups ...[]int) error {
	group, err := partitionGroups(len(l.hosts), groups)
	if err != nil {
		return err
	}
	if err := l.usable(); err != nil {
		return err
	}
	if err := l.removeRoutes(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, h := range l.hosts {
		for j, o := range l.hosts {
			if i == j || group[i] < 0 || group[j] < 0 || group[i] == group[j] {
				continue
			}
			r := unreachableRoute{ns: h.NS, dst: o.IP.String() + "/32"}
			if err := runIP(ctx, l.ip, "", "-n", r.ns, "route", "add", "unreachable", r.dst); err != nil {
				return err
			}
			l.mu.Lock()
			l.routes = append(l.routes, r)
			l.mu.Unlock()
		}
	}
	l.log.Info("chaos lan unreachable", "groups", groups)
	return nil
}

// unreachableRoute is one route Unreachable added.
type unreachableRoute struct{ ns, dst string }

// removeRoutes deletes the routes Unreachable added.
func (l *LAN) removeRoutes() error {
	l.mu.Lock()
	routes := l.routes
	l.routes = nil
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	for _, r := range routes {
		if err := runIP(ctx, l.ip, "", "-n", r.ns, "route", "del", "unreachable", r.dst); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("chaos lan: heal routes: %w", err)
	}
	return nil
}
