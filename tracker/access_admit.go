package tracker

import (
	"errors"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// admit decides membership: a member is admitted by its certificate (a
// secret, if presented, must be one this tracker issued, even expired); a
// non-member must present the tracker's own secret or an issued, unexpired
// one, and is then recorded durably, with the folders that secret grants,
// before it is answered (docs/ACCESS.md). A removed device is refused unless
// the secret it presents was made after its removal.
func (s *Server) admit(dev identity.DeviceID, secret []byte) (num uint32, added bool, err error) {
	now := time.Now()
	num, member := s.store.member(dev)
	var js joinSecret
	if len(secret) > 0 {
		js, err = s.store.acl().resolveSecret(secret, now)
		if errors.Is(err, ErrWrongToken) {
			return 0, false, &remoteError{trackerpb.ErrorCode_ERROR_WRONG_TOKEN,
				"wrong join token: the secret does not match this tracker's token (tracker " + s.id.ID.String() + ")"}
		}
		if err != nil {
			return 0, false, err
		}
	}
	if member {
		return num, false, nil
	}
	if at, removed := s.store.acl().removedAt(dev); removed && !js.made.After(at) {
		s.log.Info("refused a removed device", "device", dev)
		return 0, false, refusedRemoved(dev)
	}
	switch {
	case len(secret) == 0:
		return 0, false, &remoteError{trackerpb.ErrorCode_ERROR_NOT_MEMBER,
			"not a member: device " + dev.String() + " has not joined this tracker; join once with --token"}
	case js.kind == secretExpired:
		return 0, false, &remoteError{trackerpb.ErrorCode_ERROR_WRONG_TOKEN,
			"wrong join token: the token has expired; ask the tracker's owner for a new one (tracker " + s.id.ID.String() + ")"}
	case js.kind == secretRetired:
		return 0, false, &remoteError{trackerpb.ErrorCode_ERROR_WRONG_TOKEN,
			"wrong join token: the tracker's token was replaced (dartsync tracker token --rotate); ask its owner for the new one (tracker " + s.id.ID.String() + ")"}
	}
	num, added, err = s.store.addMemberWith(dev, newMemberRecord(js.grant, now))
	if err != nil {
		return 0, false, err
	}
	s.log.Info("new member joined", "device", dev, "folders", js.grant.String())
	return num, added, nil
}

// checkFolder refuses a registration for a folder outside dev's grant.
func (s *Server) checkFolder(dev identity.DeviceID, folder string) error {
	if !s.store.acl().grantOf(dev).Allows(folder) {
		return errFolderNotShared(folder)
	}
	return nil
}

// enforceGrant closes ss if its device is no longer granted its folder
// (called after ss is live, so that a grant narrowed during its
// registration is seen either here or by closeUngranted).
func (s *Server) enforceGrant(ss *session) {
	if !s.store.acl().grantOf(ss.dev).Allows(ss.folder) {
		ss.fail(errFolderNotShared(ss.folder))
	}
}

// closeUngranted closes every live session of dev whose folder its grant
// no longer includes (all of them for a removed member), with re.
func (s *Server) closeUngranted(dev identity.DeviceID, re func(folder string) *remoteError) int {
	g := s.store.acl().grantOf(dev)
	s.mu.Lock()
	var gone []*session
	for k, ss := range s.peers {
		if k.dev == dev && !g.Allows(k.folder) {
			gone = append(gone, ss)
		}
	}
	s.mu.Unlock()
	for _, ss := range gone {
		s.log.Info("closing session: folder no longer shared", "device", dev.Short(), "folder", ss.folder)
		ss.fail(re(ss.folder))
	}
	return len(gone)
}

// liveFolders returns the folders dev has a live session of, sorted.
func (s *Server) liveFolders(dev identity.DeviceID) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var fs []string
	for k := range s.peers {
		if k.dev == dev {
			fs = append(fs, k.folder)
		}
	}
	return sortedStrings(fs)
}
