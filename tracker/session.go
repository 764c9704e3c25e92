package tracker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/internal/wire"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// session is one registered peer connection. The handle goroutine reads the
// control stream; the write goroutine owns all writes to it after
// REGISTERED. Others talk to the writer through mu-guarded fields and the
// notify channel.
type session struct {
	srv    *Server
	conn   *transport.Conn
	stream *quic.Stream
	dev    identity.DeviceID
	num    uint32
	folder string
	addr   string
	sent   uint64 // highest sequence number pushed; owned by the writer

	lastSeen atomic.Int64 // unix ns of the last frame received
	notify   chan struct{}

	mu         sync.Mutex
	out        []*trackerpb.TrackerMsg // results waiting for the writer
	peersDirty bool
	failure    *remoteError // set once: the writer sends it and closes
	done       chan struct{}
}

func (ss *session) seen() time.Time { return time.Unix(0, ss.lastSeen.Load()) }

func (ss *session) wake() {
	select {
	case ss.notify <- struct{}{}:
	default:
	}
}

func (ss *session) queue(m *trackerpb.TrackerMsg) {
	ss.mu.Lock()
	ss.out = append(ss.out, m)
	ss.mu.Unlock()
	ss.wake()
}

func (ss *session) markPeers() {
	ss.mu.Lock()
	ss.peersDirty = true
	ss.mu.Unlock()
	ss.wake()
}

// fail makes the writer send e and close the connection; the first call wins.
func (ss *session) fail(e *remoteError) {
	ss.mu.Lock()
	if ss.failure == nil {
		ss.failure = e
	}
	ss.mu.Unlock()
	ss.wake()
	ss.srv.removePeer(ss) // the others learn at once, not after the grace period
}

// handle runs one connection from accept to close.
func (s *Server) handle(ctx context.Context, c *transport.Conn) {
	log := s.log.With("device", c.Remote.Short(), "remote", c.RemoteAddr())
	defer c.CloseWithError(0, "")
	actx, cancel := context.WithTimeout(ctx, registerTimeout)
	st, err := c.AcceptStream(actx)
	cancel()
	if err != nil {
		log.Debug("no control stream", "err", err)
		return
	}
	ss, err := s.register(c, st)
	if err != nil {
		re := asRemoteError(err)
		log.Info("registration refused", "err", re.msg)
		s.refuse(ctx, c, st, re)
		return
	}
	log = log.With("folder", ss.folder)
	log.Info("peer registered", "addr", ss.addr, "last_seq", ss.sent)
	if s.beforeLive != nil {
		s.beforeLive()
	}
	s.addPeer(ss)

	sctx, scancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ss.writeLoop(sctx)
		if ctx.Err() != nil {
			_ = c.CloseWithError(quic.ApplicationErrorCode(trackerpb.ErrorCode_ERROR_UNAVAILABLE), "tracker shutting down")
		}
		_ = c.CloseWithError(0, "") // unblocks the reader; no-op after an ERROR close
	}()
	err = ss.readLoop()
	if err != nil && !errors.Is(err, io.EOF) {
		log.Info("peer connection ended", "err", err)
	}
	if sctx.Err() == nil && !errors.Is(err, io.EOF) && !isConnGone(err) {
		// bad input (or a failure already queued): let the writer send the
		// ERROR and close after its grace period
		ss.fail(asRemoteError(err))
	} else {
		scancel()
	}
	wg.Wait()
	scancel()
	s.removePeer(ss)
}

func isConnGone(err error) bool {
	var ie *quic.IdleTimeoutError
	var ae *quic.ApplicationError
	return errors.As(err, &ie) || errors.As(err, &ae) || errors.Is(err, net.ErrClosed)
}

// register reads and answers REGISTER. On success it has written REGISTERED
// and returns the session; on failure the error is for the peer.
func (s *Server) register(c *transport.Conn, st *quic.Stream) (*session, error) {
	st.SetReadDeadline(time.Now().Add(registerTimeout))
	body, err := wire.ReadBytes(st, MaxRegisterSize)
	if err != nil {
		return nil, err
	}
	st.SetReadDeadline(time.Time{})
	m, err := decodePeerMsg(body)
	if err != nil {
		return nil, err
	}
	reg := m.GetRegister()
	if reg == nil {
		return nil, fmt.Errorf("%w: first message must be REGISTER", ErrProtocol)
	}
	num, newMember, err := s.admit(c.Remote, reg.JoinSecret)
	if err != nil {
		return nil, err
	}
	ss := &session{
		srv: s, conn: c, stream: st, dev: c.Remote, num: num, folder: reg.Folder,
		addr:   hostPort(c.RemoteAddr(), reg.ListenPort),
		sent:   reg.LastSeq,
		notify: make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
	ss.lastSeen.Store(time.Now().UnixNano())
	cur := s.store.current()
	if ss.sent > cur {
		s.log.Warn("peer is ahead of this tracker's history; sending everything", "device", c.Remote.Short(), "peer_seq", ss.sent, "seq", cur)
		ss.sent = 0
	}
	s.mu.Lock()
	peers := s.peerList(ss.folder, ss.dev)
	s.mu.Unlock()
	rm := &trackerpb.Registered{
		IntervalMs: uint32(s.cfg.Interval / time.Millisecond), PieceSize: uint32(s.cfg.PieceSize),
		Seq: cur, NewMember: newMember,
	}
	for _, p := range peers {
		rm.Peers = append(rm.Peers, peerToPB(p))
	}
	st.SetWriteDeadline(time.Now().Add(registerTimeout))
	if err := wire.Write(st, &trackerpb.TrackerMsg{Msg: &trackerpb.TrackerMsg_Registered{Registered: rm}}); err != nil {
		return nil, err
	}
	st.SetWriteDeadline(time.Time{})
	return ss, nil
}

// admit decides membership: a member is admitted by its certificate (a
// secret, if presented, must still be right); a non-member must present the
// secret and is then recorded durably before it is answered.
func (s *Server) admit(dev identity.DeviceID, secret []byte) (num uint32, added bool, err error) {
	num, member := s.store.member(dev)
	if len(secret) > 0 && !secretMatches(s.store.secret, secret) {
		return 0, false, &remoteError{trackerpb.ErrorCode_ERROR_WRONG_TOKEN,
			"wrong join token: the secret does not match this tracker's token (tracker " + s.id.ID.String() + ")"}
	}
	if member {
		return num, false, nil
	}
	if len(secret) == 0 {
		return 0, false, &remoteError{trackerpb.ErrorCode_ERROR_NOT_MEMBER,
			"not a member: device " + dev.String() + " has not joined this tracker; join once with --token"}
	}
	num, added, err = s.store.addMember(dev)
	if err != nil {
		return 0, false, err
	}
	s.log.Info("new member joined", "device", dev)
	return num, added, nil
}

// refuse sends re on the stream, closes it and the connection.
func (s *Server) refuse(ctx context.Context, c *transport.Conn, st *quic.Stream, re *remoteError) {
	st.SetWriteDeadline(time.Now().Add(errorGrace))
	_ = wire.Write(st, re.msgPB())
	_ = st.Close()
	st.CancelRead(0)
	closeAfterGrace(ctx, c, re)
}

// closeAfterGrace gives the peer errorGrace to read the ERROR and close, then
// closes the connection with the ERROR's code and message.
func closeAfterGrace(ctx context.Context, c *transport.Conn, re *remoteError) {
	t := time.NewTimer(errorGrace)
	defer t.Stop()
	select {
	case <-c.Context().Done():
	case <-t.C:
	case <-ctx.Done():
	}
	_ = c.CloseWithError(quic.ApplicationErrorCode(re.code), re.msg)
}

// readLoop reads frames until the stream ends or breaks the protocol.
func (ss *session) readLoop() error {
	for {
		body, err := wire.ReadBytes(ss.stream, MaxMessageSize)
		if err != nil {
			return err
		}
		ss.lastSeen.Store(time.Now().UnixNano())
		m, err := decodePeerMsg(body)
		if err != nil {
			return err
		}
		switch x := m.Msg.(type) {
		case *trackerpb.PeerMsg_KeepAlive:
		case *trackerpb.PeerMsg_FileUpdate:
			if err := ss.fileUpdate(x.FileUpdate); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: unexpected %T after REGISTER", ErrProtocol, x)
		}
	}
}

// fileUpdate applies one batch durably, queues its RESULTS and wakes every
// session of the folder to push the changes.
func (ss *session) fileUpdate(u *trackerpb.FileUpdate) error {
	res := make([]*trackerpb.Result, len(u.Changes))
	valid := make([]Change, 0, len(u.Changes))
	idx := make([]int, 0, len(u.Changes))
	for i, p := range u.Changes {
		m, err := manifest.FromProto(p)
		if err != nil {
			res[i] = &trackerpb.Result{Outcome: trackerpb.Outcome_OUTCOME_REJECTED, Path: p.GetPath(), Error: "invalid manifest: " + err.Error()}
			continue
		}
		// decodePeerMsg checked: no flags, or one per change
		valid = append(valid, Change{New: m, OwnershipOnly: len(u.OwnershipOnly) > 0 && u.OwnershipOnly[i]})
		idx = append(idx, i)
	}
	if len(valid) > 0 {
		rs, err := ss.srv.store.apply(ss.folder, ss.num, valid)
		if err != nil {
			ss.srv.log.Error("commit failed", "err", err)
			return &remoteError{trackerpb.ErrorCode_ERROR_UNAVAILABLE, "tracker could not store the changes; retry later"}
		}
		for j, r := range rs {
			res[idx[j]] = resultToPB(r)
		}
	}
	ss.queue(&trackerpb.TrackerMsg{Msg: &trackerpb.TrackerMsg_Results{Results: &trackerpb.Results{RequestId: u.RequestId, Results: res}}})
	if len(valid) > 0 {
		ss.srv.changed(ss.folder)
	}
	return nil
}

func resultToPB(r Result) *trackerpb.Result {
	p := &trackerpb.Result{Outcome: trackerpb.Outcome(r.Outcome), Seq: r.Seq, Path: r.Path}
	if r.Current.Path != "" {
		p.Current = manifest.ToProto(&r.Current)
	}
	if r.Err != nil {
		p.Error = r.Err.Error()
	}
	return p
}

// writeLoop owns the stream's writes: results, peer lists, pushed changes
// and finally an ERROR. It returns when ctx ends or a write fails.
func (ss *session) writeLoop(ctx context.Context) {
	defer close(ss.done)
	ss.wake() // replay changes since the peer's last sequence
	for {
		select {
		case <-ctx.Done():
			return
		case <-ss.notify:
		}
		if err := ss.flush(ctx); err != nil {
			return
		}
	}
}

// flush writes everything pending; it returns an error when the session must end.
func (ss *session) flush(ctx context.Context) error {
	for {
		ss.mu.Lock()
		out, dirty, failure := ss.out, ss.peersDirty, ss.failure
		ss.out, ss.peersDirty = nil, false
		ss.mu.Unlock()
		for _, m := range out {
			if err := ss.write(m); err != nil {
				return err
			}
		}
		if failure != nil {
			ss.stream.SetWriteDeadline(time.Now().Add(errorGrace))
			_ = wire.Write(ss.stream, failure.msgPB())
			_ = ss.stream.Close()
			ss.stream.CancelRead(0)
			closeAfterGrace(ctx, ss.conn, failure)
			return failure
		}
		if dirty {
			ss.srv.mu.Lock()
			peers := ss.srv.peerList(ss.folder, ss.dev)
			ss.srv.mu.Unlock()
			pm := &trackerpb.Peers{}
			for _, p := range peers {
				pm.Peers = append(pm.Peers, peerToPB(p))
			}
			if err := ss.write(&trackerpb.TrackerMsg{Msg: &trackerpb.TrackerMsg_Peers{Peers: pm}}); err != nil {
				return err
			}
		}
		if ss.sent >= ss.srv.store.current() {
			if len(out) == 0 && !dirty {
				return nil
			}
			continue
		}
		entries, next, err := ss.srv.store.since(ss.folder, ss.sent, maxPushEntries, maxPushBytes)
		if err != nil {
			ss.srv.log.Error("read changes", "err", err)
			ss.fail(&remoteError{trackerpb.ErrorCode_ERROR_UNAVAILABLE, "tracker could not read its state"})
			continue
		}
		if next == ss.sent {
			return nil // nothing to scan (cannot happen: every seq has a log record)
		}
		ss.sent = next
		if len(entries) > 0 {
			ss.stream.SetWriteDeadline(time.Now().Add(ss.srv.cfg.PeerTimeout))
			if err := wire.WriteBytes(ss.stream, encodeUpdates(entries)); err != nil {
				return err
			}
		}
	}
}

func (ss *session) write(m *trackerpb.TrackerMsg) error {
	ss.stream.SetWriteDeadline(time.Now().Add(ss.srv.cfg.PeerTimeout))
	return wire.Write(ss.stream, m)
}

// addPeer records ss as live, replacing an older session of the same device
// and folder, and tells the folder's other peers.
func (s *Server) addPeer(ss *session) {
	k := peerKey{ss.folder, ss.dev}
	s.mu.Lock()
	old := s.peers[k]
	s.peers[k] = ss
	s.mu.Unlock()
	if old != nil {
		old.fail(&remoteError{trackerpb.ErrorCode_ERROR_REPLACED, "replaced by a newer connection of the same device"})
	}
	// The list ss got in REGISTERED was built before ss was live, so a peer
	// registering at the same moment may be missing from it; send ss the
	// list as it is now, after the insertion.
	ss.markPeers()
	s.peersChanged(ss.folder, ss.dev)
}

// removePeer forgets ss (if it is still the live session of its device) and
// tells the folder's other peers.
func (s *Server) removePeer(ss *session) {
	k := peerKey{ss.folder, ss.dev}
	s.mu.Lock()
	removed := s.peers[k] == ss
	if removed {
		delete(s.peers, k)
	}
	s.mu.Unlock()
	if removed {
		s.peersChanged(ss.folder, ss.dev)
	}
}

// peersChanged wakes every session of folder but except's to send PEERS.
func (s *Server) peersChanged(folder string, except identity.DeviceID) {
	s.mu.Lock()
	var targets []*session
	for k, ss := range s.peers {
		if k.folder == folder && k.dev != except {
			targets = append(targets, ss)
		}
	}
	s.mu.Unlock()
	for _, ss := range targets {
		ss.markPeers()
	}
}

// changed wakes every session of folder to push new changes.
func (s *Server) changed(folder string) {
	s.mu.Lock()
	var targets []*session
	for k, ss := range s.peers {
		if k.folder == folder {
			targets = append(targets, ss)
		}
	}
	s.mu.Unlock()
	for _, ss := range targets {
		ss.wake()
	}
}

// peerList returns the live peers of folder except dev, sorted by device ID.
// The caller holds s.mu.
func (s *Server) peerList(folder string, except identity.DeviceID) []PeerInfo {
	var out []PeerInfo
	for k, ss := range s.peers {
		if k.folder == folder && k.dev != except {
			out = append(out, PeerInfo{ID: k.dev, Addr: ss.addr})
		}
	}
	slices.SortFunc(out, func(a, b PeerInfo) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	return out
}
