package transport

import (
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/dartsync/dartsync/internal/identity"
)

// Sentinel errors; see the package documentation.
var (
	ErrWrongDevice = errors.New("remote is not the expected device")
	ErrBadPeerCert = errors.New("unacceptable peer certificate")
	ErrClosed      = errors.New("listener closed")
)

// remoteID returns the device ID of the leaf certificate of a TLS 1.3
// connection speaking ALPN.
func remoteID(cs tls.ConnectionState) (identity.DeviceID, error) {
	if cs.Version != tls.VersionTLS13 {
		return identity.DeviceID{}, fmt.Errorf("%w: TLS version %#x, want 1.3", ErrBadPeerCert, cs.Version)
	}
	if cs.NegotiatedProtocol != ALPN {
		return identity.DeviceID{}, fmt.Errorf("%w: ALPN %q, want %q", ErrBadPeerCert, cs.NegotiatedProtocol, ALPN)
	}
	if len(cs.PeerCertificates) == 0 {
		return identity.DeviceID{}, fmt.Errorf("%w: no certificate", ErrBadPeerCert)
	}
	id, err := identity.FromCertificate(cs.PeerCertificates[0])
	if err != nil {
		return identity.DeviceID{}, fmt.Errorf("%w: %w", ErrBadPeerCert, err)
	}
	return id, nil
}

// baseTLS is the part shared by both ends: our certificate, TLS 1.3 only,
// our ALPN only, and no CA verification (VerifyConnection identifies the
// peer by its key instead).
func baseTLS(id *identity.Identity) *tls.Config {
	return &tls.Config{
		Certificates:       []tls.Certificate{id.Cert},
		MinVersion:         tls.VersionTLS13,
		MaxVersion:         tls.VersionTLS13,
		NextProtos:         []string{ALPN},
		InsecureSkipVerify: true, // chain checks replaced by VerifyConnection
		ServerName:         "dartsync",
	}
}

func serverTLS(id *identity.Identity, opt Options) *tls.Config {
	c := baseTLS(id)
	c.ClientAuth = tls.RequireAnyClientCert
	c.SessionTicketsDisabled = true // no resumption: every connection shows its certificate
	log := opt.log()
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		if _, err := remoteID(cs); err != nil {
			log.Debug("transport: refused client", "err", err)
			return err
		}
		return nil
	}
	return c
}

// clientTLS returns the client configuration; a verification failure is also
// stored through fail so that Dial can return it intact (quic-go reduces
// handshake errors to their text).
func clientTLS(id *identity.Identity, expect *identity.DeviceID, fail func(error)) *tls.Config {
	c := baseTLS(id)
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		got, err := remoteID(cs)
		if err == nil && expect != nil && got != *expect {
			err = fmt.Errorf("%w: expected %s, got %s", ErrWrongDevice, *expect, got)
		}
		if err != nil {
			fail(err)
		}
		return err
	}
	return c
}
