package transport

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/quic-go/quic-go"
	"github.com/zeebo/blake3"

	"github.com/dartsync/dartsync/internal/identity"
)

// resetKeyContext is the BLAKE3 derive-key context of the stateless reset
// key: it separates this use of the identity's private key from every other.
const resetKeyContext = "dartsync 2026-12 transport: QUIC stateless reset key v1"

// ResetKey returns the QUIC stateless reset key of id: a BLAKE3 derived key
// of its Ed25519 private key seed under a context of its own, so the same
// identity always has the same key (a restarted node resets the connections
// of its previous run) and the key reveals nothing of the private key.
func ResetKey(id *identity.Identity) (*quic.StatelessResetKey, error) {
	if id == nil {
		return nil, errors.New("nil identity")
	}
	priv, ok := id.Cert.PrivateKey.(ed25519.PrivateKey)
	if !ok || len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("identity %s: private key is %T, want Ed25519", id.ID.Short(), id.Cert.PrivateKey)
	}
	var key quic.StatelessResetKey
	blake3.DeriveKey(resetKeyContext, priv.Seed(), key[:])
	return &key, nil
}

// IsStatelessReset reports whether err says that the connection ended with
// a stateless reset from the other side: its node restarted (or lost the
// connection's state) and answered a packet of the connection.
func IsStatelessReset(err error) bool {
	var sr *quic.StatelessResetError
	return errors.As(err, &sr)
}
