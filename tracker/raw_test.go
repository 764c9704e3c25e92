package tracker

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/internal/wire"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// rawPeer speaks the protocol by hand, to send what a Client never would.
type rawPeer struct {
	id   *identity.Identity
	conn transport.Session
	qc   *transport.Conn // the QUIC connection under conn; nil over TCP
	st   transport.Stream
}

func dialRaw(t testing.TB, addr string, tok Token, id *identity.Identity) *rawPeer {
	t.Helper()
	return dialRawOver(t, transport.ModeQUIC, addr, tok, id)
}

// dialRawOver is dialRaw over QUIC or TCP (mode).
func dialRawOver(t testing.TB, mode transport.Mode, addr string, tok Token, id *identity.Identity) *rawPeer {
	t.Helper()
	if id == nil {
		id = newTestIdentity(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	p := &rawPeer{id: id}
	if mode == transport.ModeTCP {
		s, err := transport.DialTCP(ctx, addr, id, &tok.Tracker, transport.Options{})
		if err != nil {
			t.Fatal(err)
		}
		p.conn = s
	} else {
		c, err := transport.Dial(ctx, addr, id, &tok.Tracker, transport.Options{})
		if err != nil {
			t.Fatal(err)
		}
		p.conn, p.qc = c.Session(), c
	}
	st, err := p.conn.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p.st = st
	t.Cleanup(func() { p.conn.CloseWithError(0, "") })
	return p
}

func (p *rawPeer) send(t testing.TB, m *trackerpb.PeerMsg) {
	t.Helper()
	if err := wire.Write(p.st, m); err != nil {
		t.Fatal(err)
	}
}

func (p *rawPeer) register(t testing.TB, secret []byte, last uint64) *trackerpb.Registered {
	t.Helper()
	p.send(t, &trackerpb.PeerMsg{Msg: &trackerpb.PeerMsg_Register{Register: &trackerpb.Register{Protocol: ProtocolVersion, ListenPort: 1, JoinSecret: secret, LastSeq: last}}})
	m := p.read(t)
	if m.GetRegistered() == nil {
		t.Fatalf("register: got %v", m)
	}
	return m.GetRegistered()
}

func (p *rawPeer) read(t testing.TB) *trackerpb.TrackerMsg {
	t.Helper()
	p.st.SetReadDeadline(time.Now().Add(waitLimit))
	var m trackerpb.TrackerMsg
	if err := wire.Read(p.st, &m, MaxMessageSize); err != nil {
		t.Fatalf("read: %v", err)
	}
	return &m
}

// readError skips pushes until an ERROR and checks that the stream then ends.
func (p *rawPeer) readError(t testing.TB) *trackerpb.Error {
	t.Helper()
	for {
		m := p.read(t)
		if e := m.GetError(); e != nil {
			var rest trackerpb.TrackerMsg
			if err := wire.Read(p.st, &rest, MaxMessageSize); err == nil {
				t.Fatalf("stream still open after ERROR: %v", &rest)
			}
			return e
		}
	}
}

func TestBadInputGetsErrorAndTrackerServesOthers(t *testing.T) {
	srv := startServer(t, t.TempDir(), ServerConfig{})
	addr := srv.Addr().String()
	tok := srv.Token()
	good := startClient(t, addr, tok, nil)
	good.registered(t)

	frame := func(n uint32, body []byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, n)
		return append(b, body...)
	}
	manyChanges := &trackerpb.FileUpdate{}
	for range MaxBatch + 1 {
		manyChanges.Changes = append(manyChanges.Changes, manifest.ToProto(new(testFile("a", "a", t0, [32]byte{}))))
	}
	tests := []struct {
		name     string
		register bool   // register first
		raw      []byte // bytes sent
		msg      *trackerpb.PeerMsg
		wantCode trackerpb.ErrorCode
		wantText string
	}{
		{name: "oversized frame before register", raw: frame(1<<30, nil), wantCode: trackerpb.ErrorCode_ERROR_TOO_LARGE, wantText: "too large"},
		{name: "oversized frame after register", register: true, raw: frame(MaxMessageSize+1, nil), wantCode: trackerpb.ErrorCode_ERROR_TOO_LARGE, wantText: "too large"},
		{name: "garbage frame", raw: frame(5, []byte{0xff, 0xff, 0xff, 0xff, 0xff}), wantCode: trackerpb.ErrorCode_ERROR_PROTOCOL, wantText: "protocol"},
		{name: "garbage after register", register: true, raw: frame(3, []byte{0x0a, 0x05, 0x01}), wantCode: trackerpb.ErrorCode_ERROR_PROTOCOL, wantText: "protocol"},
		{name: "empty message", raw: frame(0, nil), wantCode: trackerpb.ErrorCode_ERROR_PROTOCOL, wantText: "unknown type"},
		{name: "keep-alive before register", msg: &trackerpb.PeerMsg{Msg: &trackerpb.PeerMsg_KeepAlive{KeepAlive: &trackerpb.KeepAlive{}}},
			wantCode: trackerpb.ErrorCode_ERROR_PROTOCOL, wantText: "must be REGISTER"},
		{name: "second register", register: true, msg: &trackerpb.PeerMsg{Msg: &trackerpb.PeerMsg_Register{Register: &trackerpb.Register{Protocol: 1}}},
			wantCode: trackerpb.ErrorCode_ERROR_PROTOCOL, wantText: "unexpected"},
		{name: "unknown protocol version", msg: &trackerpb.PeerMsg{Msg: &trackerpb.PeerMsg_Register{Register: &trackerpb.Register{Protocol: 99}}},
			wantCode: trackerpb.ErrorCode_ERROR_PROTOCOL, wantText: "protocol version 99"},
		{name: "batch over the limit", register: true, msg: &trackerpb.PeerMsg{Msg: &trackerpb.PeerMsg_FileUpdate{FileUpdate: manyChanges}},
			wantCode: trackerpb.ErrorCode_ERROR_TOO_LARGE, wantText: "limit 1000"},
		{name: "ownership flags of another length", register: true, msg: &trackerpb.PeerMsg{Msg: &trackerpb.PeerMsg_FileUpdate{FileUpdate: &trackerpb.FileUpdate{
			Changes: manyChanges.Changes[:2], OwnershipOnly: []bool{true}}}},
			wantCode: trackerpb.ErrorCode_ERROR_PROTOCOL, wantText: "1 ownership flags for 2 changes"},
		{name: "truncated frame", register: true, raw: frame(100, []byte("short")), wantCode: trackerpb.ErrorCode_ERROR_PROTOCOL, wantText: "ended inside a frame"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := dialRaw(t, addr, tok, nil)
			if tt.register {
				p.register(t, tok.Secret[:], 0)
			}
			if tt.raw != nil {
				if _, err := p.st.Write(tt.raw); err != nil {
					t.Fatal(err)
				}
				if strings.Contains(tt.name, "truncated") {
					p.st.Close() // end the stream inside the frame
				}
			}
			if tt.msg != nil {
				p.send(t, tt.msg)
			}
			e := p.readError(t)
			if e.Code != tt.wantCode || !strings.Contains(e.Message, tt.wantText) {
				t.Fatalf("ERROR %v %q, want %v containing %q", e.Code, e.Message, tt.wantCode, tt.wantText)
			}
			// the error ended only that stream: the connection registers
			// another folder
			other, err := p.conn.OpenStream(context.Background())
			if err != nil {
				t.Fatalf("connection closed after an error on one stream: %v", err)
			}
			p.st = other
			p.send(t, &trackerpb.PeerMsg{Msg: &trackerpb.PeerMsg_Register{Register: &trackerpb.Register{
				Protocol: ProtocolVersion, Folder: "other", JoinSecret: tok.Secret[:]}}})
			if m := p.read(t); m.GetRegistered() == nil {
				t.Fatalf("register on the same connection after the error: got %v", m)
			}
			p.conn.CloseWithError(0, "")
			// and the tracker still serves the others
			if rs := good.update(t, testFile("ok/"+strings.ReplaceAll(tt.name, " ", "_"), tt.name, t0, [32]byte{})); rs[0].Outcome != Accepted {
				t.Fatal(rs[0])
			}
		})
	}
}

func TestWrongALPNRefused(t *testing.T) {
	srv := startServer(t, t.TempDir(), ServerConfig{})
	id := newTestIdentity(t)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	conf := &tls.Config{Certificates: []tls.Certificate{id.Cert}, InsecureSkipVerify: true, NextProtos: []string{"h3"}, MinVersion: tls.VersionTLS13}
	c, err := quic.DialAddr(ctx, srv.Addr().String(), conf, nil)
	if err == nil {
		c.CloseWithError(0, "")
		t.Fatal("handshake with ALPN h3 succeeded")
	}
	if !strings.Contains(err.Error(), "no application protocol") {
		t.Fatalf("error %q does not say why", err)
	}
	good := startClient(t, srv.Addr().String(), srv.Token(), nil)
	good.registered(t)
}

func TestNewerConnectionReplacesOlder(t *testing.T) {
	srv := startServer(t, t.TempDir(), ServerConfig{})
	addr := srv.Addr().String()
	id := newTestIdentity(t)
	old := dialRaw(t, addr, srv.Token(), id)
	old.register(t, secretOf(srv), 0)
	other := startClient(t, addr, srv.Token(), nil)
	other.registered(t)
	newer := dialRaw(t, addr, srv.Token(), id)
	newer.register(t, nil, 0)
	if e := old.readError(t); e.Code != trackerpb.ErrorCode_ERROR_REPLACED {
		t.Fatalf("old connection got %v", e)
	}
	other.rec.wait(t, "the device is still listed once", func(r *recorder) bool {
		ps := r.currentPeers()
		return len(ps) == 1 && ps[0].ID == id.ID
	})
}

func secretOf(s *Server) []byte {
	t := s.Token()
	return t.Secret[:]
}
