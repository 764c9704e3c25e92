package tracker

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/internal/wire"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// register reads and answers REGISTER. On success it has written REGISTERED
// and returns the session; on failure the error is for the peer.
//
// A folder already registered on the connection c is refused (cf).
func (s *Server) register(c transport.Session, st transport.Stream, cf *connFolders) (*session, error) {
	st.SetReadDeadline(time.Now().Add(registerTimeout))
	body, release, err := s.lim.readFrame(st, cf.dev, MaxRegisterSize)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, &remoteError{trackerpb.ErrorCode_ERROR_TIMEOUT, fmt.Sprintf("no complete REGISTER within %v", registerTimeout)}
	}
	if err != nil {
		return nil, err
	}
	st.SetReadDeadline(time.Time{})
	m, err := decodePeerMsg(body)
	release()
	if err != nil {
		return nil, err
	}
	reg := m.GetRegister()
	if reg == nil {
		return nil, fmt.Errorf("%w: first message must be REGISTER", ErrProtocol)
	}
	if !cf.claim(reg.Folder) {
		return nil, fmt.Errorf("%w: folder %q is already registered on this connection", ErrProtocol, reg.Folder)
	}
	ss, err := s.registerFolder(c, st, reg)
	if err == nil {
		ss.frames = cf.dev
		s.lim.joined(cf.dev)
	}
	if err != nil {
		cf.release(reg.Folder)
		return nil, err
	}
	return ss, nil
}

// registerFolder admits the device to reg's folder and answers REGISTERED.
func (s *Server) registerFolder(c transport.Session, st transport.Stream, reg *trackerpb.Register) (*session, error) {
	num, newMember, err := s.admit(c.RemoteDevice(), reg.JoinSecret)
	if err != nil {
		return nil, err
	}
	if err := s.checkFolder(c.RemoteDevice(), reg.Folder); err != nil {
		return nil, err
	}
	ss := &session{
		srv: s, conn: c, stream: st, dev: c.RemoteDevice(), num: num, folder: reg.Folder,
		addr:   hostPort(c.RemoteAddr(), reg.ListenPort),
		sent:   reg.LastSeq,
		notify: make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
	ss.lastSeen.Store(time.Now().UnixNano())
	s.devices.noteDevice(ss, reg)
	if err := s.resumeOrReannounce(ss, reg); err != nil {
		return nil, err
	}
	cur := s.store.current()
	s.mu.Lock()
	peers := s.peerList(ss.folder, ss.dev)
	s.mu.Unlock()
	rm := &trackerpb.Registered{
		IntervalMs: uint32(s.cfg.Interval / time.Millisecond), PieceSize: uint32(s.cfg.PieceSize),
		Seq: cur, NewMember: newMember, Epoch: ss.epoch.bytes(), Reannounce: ss.held.Load(),
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

// refuseStream sends re on the stream and closes it both ways; the
// connection and its other streams are unaffected.
func refuseStream(st transport.Stream, re *remoteError) {
	st.SetWriteDeadline(time.Now().Add(errorGrace))
	_ = wire.Write(st, re.msgPB())
	_ = st.Close()
	st.CancelRead(0)
}
