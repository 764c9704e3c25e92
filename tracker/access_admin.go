package tracker

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/tracker/admin"
)

// adminService implements admin.Service on a store: for a running tracker
// (srv set: grant changes close the sessions they end) or on a state opened
// while no tracker runs (OpenStateAdmin).
type adminService struct {
	st      *store
	devices *deviceBook // names and last-seen times (devices.go)
	tracker identity.DeviceID
	srv     *Server // nil: no tracker runs
	dir     string  // the state directory when srv is nil
}

var _ admin.Service = (*adminService)(nil)

// IssueToken implements admin.Service.
func (a *adminService) IssueToken(_ context.Context, folders []string, ttl time.Duration) (admin.Token, error) {
	g, err := FolderGrant(folders...)
	if err != nil {
		return admin.Token{}, fmt.Errorf("%w: %w", admin.ErrInvalid, err)
	}
	if ttl < 0 {
		return admin.Token{}, fmt.Errorf("%w: negative expiry %v", admin.ErrInvalid, ttl)
	}
	now := time.Now()
	var expires time.Time
	if ttl > 0 {
		expires = now.Add(ttl)
	}
	sec, err := a.st.acl().issueToken(g, expires, now, rand.Reader)
	if err != nil {
		return admin.Token{}, err
	}
	t := admin.Token{Token: Token{Tracker: a.tracker, Secret: sec}.String(), Folders: g.Folders}
	if !expires.IsZero() {
		t.Expires = &expires
	}
	return t, nil
}

// RotateToken implements admin.Service: a new tracker secret, written to
// join.token; members stay members, the former token admits no new device.
func (a *adminService) RotateToken(context.Context) (admin.Token, error) {
	dir := a.dir
	if a.srv != nil {
		dir = a.srv.cfg.StateDir
	}
	t, err := a.rotateToken(dir, rand.Reader)
	if err != nil {
		return admin.Token{}, err
	}
	if a.srv != nil {
		a.srv.log.Info("join token rotated: the former token admits no new device; members stay members",
			"token_file", tokenPath(dir))
	}
	return admin.Token{Token: t.String(), AllFolders: true, Folders: []string{}}, nil
}

// Members implements admin.Service.
func (a *adminService) Members(context.Context) ([]admin.Member, error) {
	infos := a.st.acl().memberInfos()
	out := make([]admin.Member, len(infos))
	for i, mi := range infos {
		out[i] = a.member(mi)
	}
	return out, nil
}

func (a *adminService) member(mi MemberInfo) admin.Member {
	m := admin.Member{Device: mi.Device.String(), AllFolders: mi.Grant.All, Folders: mi.Grant.Folders, Connected: []string{}}
	if m.Folders == nil {
		m.Folders = []string{}
	}
	if !mi.Joined.IsZero() {
		m.Joined = &mi.Joined
	}
	if di, ok := a.devices.get(mi.Device); ok {
		m.Name = di.Name
		if !di.LastSeen.IsZero() {
			m.LastSeen = &di.LastSeen
		}
	}
	if a.srv != nil {
		if fs := a.srv.liveFolders(mi.Device); fs != nil {
			m.Connected = fs
		}
	}
	return m
}

// SetFolders implements admin.Service.
func (a *adminService) SetFolders(_ context.Context, device string, all bool, folders []string) (admin.Member, error) {
	dev, err := a.resolve(device)
	if err != nil {
		return admin.Member{}, err
	}
	g := AllFolders()
	if !all {
		if g, err = FolderGrant(folders...); err != nil {
			return admin.Member{}, fmt.Errorf("%w: %w", admin.ErrInvalid, err)
		}
	}
	if err := a.st.acl().setGrant(dev, g); err != nil {
		return admin.Member{}, a.notFound(err)
	}
	if a.srv != nil {
		a.srv.log.Info("member's folders set", "device", dev, "folders", g.String())
		a.srv.closeUngranted(dev, func(f string) *remoteError { return errFolderNotShared(f) })
	}
	for _, mi := range a.st.acl().memberInfos() {
		if mi.Device == dev {
			return a.member(mi), nil
		}
	}
	return admin.Member{}, fmt.Errorf("%w: %s was removed meanwhile", admin.ErrNotFound, dev)
}

// RemoveMember implements admin.Service.
func (a *adminService) RemoveMember(_ context.Context, device string) error {
	dev, err := a.resolve(device)
	if err != nil {
		return err
	}
	if err := a.st.acl().removeMember(dev, time.Now()); err != nil {
		return a.notFound(err)
	}
	if a.srv != nil {
		a.srv.log.Info("member removed", "device", dev)
		a.srv.closeUngranted(dev, errRemoved)
	}
	return nil
}

func (a *adminService) notFound(err error) error {
	if errors.Is(err, ErrNotMember) {
		return fmt.Errorf("%w: %w", admin.ErrNotFound, err)
	}
	return err
}

// resolve finds the member named by a full device ID or by a prefix of its
// string form (case and dashes ignored) that matches exactly one member.
func (a *adminService) resolve(s string) (identity.DeviceID, error) {
	if d, err := identity.ParseDeviceID(s); err == nil {
		if _, ok := a.st.member(d); !ok {
			return d, fmt.Errorf("%w: %s is not a member", admin.ErrNotFound, d)
		}
		return d, nil
	}
	norm := func(x string) string { return strings.ToUpper(strings.ReplaceAll(x, "-", "")) }
	p := norm(s)
	if len(p) < 7 {
		return identity.DeviceID{}, fmt.Errorf("%w: device %q: give at least 7 characters of the device ID", admin.ErrInvalid, s)
	}
	var found []identity.DeviceID
	for _, mi := range a.st.acl().memberInfos() {
		if strings.HasPrefix(norm(mi.Device.String()), p) {
			found = append(found, mi.Device)
		}
	}
	switch len(found) {
	case 0:
		return identity.DeviceID{}, fmt.Errorf("%w: no member's device ID starts with %q", admin.ErrNotFound, s)
	case 1:
		return found[0], nil
	}
	return identity.DeviceID{}, fmt.Errorf("%w: %q names %d members; give more of the device ID", admin.ErrInvalid, s, len(found))
}

func sortedStrings(s []string) []string {
	slices.Sort(s)
	return s
}
