package transfer

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/bandwidth"
	"github.com/dartsync/dartsync/peer/peerpb"
)

// PieceSource is where a Server reads the pieces it serves (a
// *chunkstore.Store). Contract: ReadPiece returns the bytes of the piece
// whose BLAKE3-256 hash is h, using buf when it is large enough; any error
// means "I do not have it" (the requester is told STATUS_NOT_FOUND). It may
// skip hashing bytes it has reason to trust (chunkstore's
// ReadPieceForUpload): every requester verifies what it receives and drops
// a source that sends a bad piece. It is called from many goroutines at
// once.
type PieceSource interface {
	ReadPiece(h manifest.ID, buf []byte) ([]byte, error)
}

// Authorizer reports whether a device is a member of the folder (it is in
// the tracker's member list). It is called once per connection and once per
// request, from many goroutines at once, and must not block.
type Authorizer func(identity.DeviceID) bool

// Folders is how a Server finds the folder a request names (peer.proto,
// "Folders"). Contract: Folder returns the piece source of the folder whose
// tracker name is name ("" = the default folder) and the Authorizer of its
// peers, false if this peer does not sync such a folder; AnyMember reports
// whether a device is a peer of at least one folder (checked once per
// connection, before anything is read). Both are called from many
// goroutines at once and must not block.
type Folders interface {
	Folder(name string) (PieceSource, Authorizer, bool)
	AnyMember(id identity.DeviceID) bool
}

// oneFolder is the Folders of a server of the default folder "" only.
type oneFolder struct {
	src  PieceSource
	auth Authorizer
}

func (o oneFolder) Folder(name string) (PieceSource, Authorizer, bool) {
	return o.src, o.auth, name == ""
}

func (o oneFolder) AnyMember(id identity.DeviceID) bool { return o.auth(id) }

// Server defaults; see ServerOption. The limits applied before a request
// is read are in server_limits.go.
const (
	// DefaultRemoteRequests is how many pieces are served to one device at
	// once: enough to fill a LAN link (a fetcher keeps DefaultWindow per
	// file in flight), few enough that one device cannot take every disk
	// read and every buffer.
	DefaultRemoteRequests = 16
	// DefaultRemoteMemory bounds the piece bytes buffered for one device
	// (its requests wait for room): one of the largest pieces.
	DefaultRemoteMemory = 16 << 20
	// DefaultServerMemory bounds the same for all devices: two devices at
	// their bound, so one never starves the others.
	DefaultServerMemory = 32 << 20
)

// ServerOption changes a Server default.
type ServerOption func(*serverConfig)

type serverConfig struct {
	bw             *bandwidth.Limiter // nil: unlimited (bandwidth.go)
	remoteRequests int
	remoteQueue    int
	remoteMemory   int64
	serverMemory   int64
	served         ServedObserver // nil: none (observe.go)
	requestTimeout time.Duration  // requestTimeout but in tests
}

// WithRemoteLimits sets how many requests of one remote device are served at
// once, how many request streams it may have open (more are answered BUSY
// before they are read; default DefaultRemoteQueue) and how many piece
// bytes may be buffered for it at once. Values <= 0 keep the default.
func WithRemoteLimits(requests, queue int, memory int64) ServerOption {
	return func(c *serverConfig) {
		if requests > 0 {
			c.remoteRequests = requests
		}
		if queue > 0 {
			c.remoteQueue = queue
		}
		if memory > 0 {
			c.remoteMemory = max(memory, MaxPieceLen)
		}
	}
}

// Server is the uploader: it answers piece requests from member devices with
// content its PieceSource has. It never opens a path named by a request.
type Server struct {
	folders Folders
	log     *slog.Logger
	cfg     serverConfig
	bufs    *bufPool
	mem     *semaphore.Weighted // piece bytes buffered, all remotes
	// reqBytes: request frame bytes held, all remotes (MaxServerRequestBytes)
	reqBytes *semaphore.Weighted

	mu      sync.Mutex
	remotes map[identity.DeviceID]*remote

	live liveConns // connections being served (server_revoke.go)
}

// NewServer returns a server of the default folder "" whose pieces are in
// src, that answers only devices auth accepts.
func NewServer(src PieceSource, auth Authorizer, log *slog.Logger, opts ...ServerOption) *Server {
	return NewFolderServer(oneFolder{src: src, auth: auth}, log, opts...)
}

// NewFolderServer returns a server of the folders of folders: each request
// is served from the folder it names, to peers of that folder only.
func NewFolderServer(folders Folders, log *slog.Logger, opts ...ServerOption) *Server {
	cfg := serverConfig{
		remoteRequests: DefaultRemoteRequests,
		remoteQueue:    DefaultRemoteQueue,
		remoteMemory:   DefaultRemoteMemory,
		serverMemory:   DefaultServerMemory,
		requestTimeout: requestTimeout,
	}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{
		folders: folders, log: log, cfg: cfg,
		bufs:     newBufPool(),
		mem:      semaphore.NewWeighted(max(cfg.serverMemory, cfg.remoteMemory)),
		reqBytes: semaphore.NewWeighted(MaxServerRequestBytes),
		remotes:  make(map[identity.DeviceID]*remote),
	}
	return s
}

// Acceptor is where a Server takes its connections from: a
// transport.SessionListener (a *transport.NodeListener serves QUIC and
// TCP). AcceptSession returns each authenticated session, or an error once
// the listener is closed or ctx ends.
type Acceptor interface {
	AcceptSession(ctx context.Context) (transport.Session, error)
}

// Serve accepts connections from l and serves them until ctx is cancelled
// (then it returns nil) or l fails (then it returns the error). Either way it
// closes every connection it accepted and waits for their goroutines before
// returning. It does not close l.
func (s *Server) Serve(ctx context.Context, l Acceptor) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for {
		c, err := l.AcceptSession(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.ServeConn(ctx, c)
		}()
	}
}

// ServeConn serves one accepted connection from device id until the
// connection ends or ctx is cancelled (then it closes the connection). A
// device the Authorizer refuses gets the connection closed with the
// "forbidden" code before anything is read; one more connection of a device
// that has MaxRemoteConns open is closed with the "too many" code. A stream
// beyond the device's stream limit is answered BUSY unread. It returns when
// every stream of the connection is done.
func (s *Server) ServeConn(ctx context.Context, conn transport.Session) {
	id := conn.RemoteDevice()
	conn = s.cfg.bw.Session(conn, bandwidth.Send) // its streams' writes wait on the send limit
	defer s.live.add(id, conn)()                  // before the check: see CloseNonMembers
	if !s.folders.AnyMember(id) {
		s.log.Info("refused connection from non-member", "device", id.Short(), "addr", conn.RemoteAddr())
		_ = conn.CloseWithError(codeForbidden, "not a member")
		return
	}
	rem := s.acquireRemote(id)
	if rem == nil {
		s.log.Warn("refused connection: too many from this device", "device", id.Short(), "addr", conn.RemoteAddr(), "limit", MaxRemoteConns)
		_ = conn.CloseWithError(codeTooMany, fmt.Sprintf("too many connections from this device (limit %d)", MaxRemoteConns))
		return
	}
	defer s.releaseRemote(id)
	s.log.Debug("serving connection", "device", id.Short(), "addr", conn.RemoteAddr(), "transport", conn.Network())
	stop := context.AfterFunc(ctx, func() { _ = conn.CloseWithError(codeNormal, "server shutting down") })
	defer stop()

	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		str, err := conn.AcceptStream(ctx)
		if err != nil {
			if appErr, ok := transport.AsApplicationError(err); ctx.Err() == nil && !(ok && appErr.Code == codeNormal) {
				s.log.Debug("connection ended", "device", id.Short(), "err", err)
			}
			return
		}
		if !s.openStream(rem) {
			s.log.Debug("refused stream: too many from this device", "device", id.Short(), "limit", s.cfg.remoteQueue)
			wg.Go(func() {
				s.refuse(str, peerpb.Status_STATUS_BUSY, fmt.Sprintf("too many streams from this device (limit %d)", s.cfg.remoteQueue))
			})
			continue
		}
		wg.Go(func() {
			defer s.closeStream(id, rem)
			s.serveStream(str, id, rem)
		})
	}
}
