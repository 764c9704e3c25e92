package tracker

import (
	"context"
	"fmt"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/internal/wire"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

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
	if err := s.checkFolder(c.Remote, reg.Folder); err != nil {
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
	s.noteDevice(ss, reg)
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
