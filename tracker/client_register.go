package tracker

import (
	"fmt"
	"time"

	"github.com/dartsync/dartsync/internal/transport"

	"github.com/dartsync/dartsync/internal/wire"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

func (c *Client) register(st transport.Stream) (RegisterInfo, error) {
	var last uint64
	var epoch Epoch
	if c.cfg.LastEpoch != nil {
		epoch = c.cfg.LastEpoch() // before LastSeq: see ClientConfig.LastEpoch
	}
	if c.cfg.LastSeq != nil {
		last = c.cfg.LastSeq()
	}
	var heard uint64
	if c.cfg.LastHeard != nil {
		heard = max(c.cfg.LastHeard(), last)
	}
	reg := &trackerpb.Register{Protocol: ProtocolVersion, ListenPort: uint32(c.cfg.ListenPort), Folder: c.cfg.Folder, LastSeq: last, JoinSecret: c.cfg.Secret,
		Epoch: epoch.bytes(), HeardSeq: heard, DeviceName: c.cfg.DeviceName, Version: c.cfg.Version}
	st.SetDeadline(time.Now().Add(dialTimeout))
	defer st.SetDeadline(time.Time{})
	if err := wire.Write(st, &trackerpb.PeerMsg{Msg: &trackerpb.PeerMsg_Register{Register: reg}}); err != nil {
		return RegisterInfo{}, err
	}
	m, err := readTrackerMsg(st)
	if err != nil {
		return RegisterInfo{}, err
	}
	if e := m.GetError(); e != nil {
		return RegisterInfo{}, &remoteError{e.Code, e.Message}
	}
	r := m.GetRegistered()
	if r == nil {
		return RegisterInfo{}, fmt.Errorf("%w: tracker answered REGISTER with %T", ErrProtocol, m.Msg)
	}
	peers, err := peersFromPB(r.Peers)
	if err != nil {
		return RegisterInfo{}, err
	}
	te, err := epochFromBytes(r.Epoch) // checked by decodeTrackerMsg
	if err != nil {
		return RegisterInfo{}, err
	}
	return RegisterInfo{
		Interval: time.Duration(r.IntervalMs) * time.Millisecond, PieceSize: int64(r.PieceSize),
		Peers: peers, Seq: r.Seq, NewMember: r.NewMember, Epoch: te, Reannounce: r.Reannounce,
	}, nil
}

func readTrackerMsg(st transport.Stream) (*trackerpb.TrackerMsg, error) {
	body, err := wire.ReadBytes(st, MaxMessageSize)
	if err != nil {
		return nil, err
	}
	return decodeTrackerMsg(body)
}
