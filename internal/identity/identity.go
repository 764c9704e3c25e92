package identity

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// Sentinel errors of certificates and stored keys; see the package documentation.
var (
	ErrNotEd25519     = errors.New("certificate key is not Ed25519")
	ErrKeyPermissions = errors.New("private key file is readable by others")
)

// File names inside the identity directory.
const (
	KeyFile  = "key.pem"
	CertFile = "cert.pem"
)

// CertValidity is the validity period of a newly issued certificate.
const CertValidity = 20 * 365 * 24 * time.Hour

// Identity is a node's key pair with its certificate (Cert.Leaf is set) and
// the device ID derived from the key.
type Identity struct {
	Cert tls.Certificate
	ID   DeviceID
}

// FromCertificate returns the device ID of the Ed25519 key in cert. It does
// not check the signature or validity dates: identity is the key, and the TLS
// handshake proves possession of it.
func FromCertificate(cert *x509.Certificate) (DeviceID, error) {
	if cert == nil {
		return DeviceID{}, fmt.Errorf("%w: no certificate", ErrNotEd25519)
	}
	pub, ok := cert.PublicKey.(ed25519.PublicKey)
	if !ok || len(pub) != ed25519.PublicKeySize {
		return DeviceID{}, fmt.Errorf("%w: %s key (subject %q)", ErrNotEd25519, cert.PublicKeyAlgorithm, cert.Subject.CommonName)
	}
	return NewDeviceID(pub), nil
}

// New creates a fresh in-memory identity (key and certificate) that is not
// stored anywhere; for tests and tools.
func New() (*Identity, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("identity: generate key: %w", err)
	}
	return fromKey(priv, nil)
}

// LoadOrCreate loads the identity stored in dir, creating dir (0700), the key
// and the certificate (0600) on first use. A missing or expired certificate
// is re-issued from the stored key, which keeps the device ID. Two processes
// creating the same identity at once end up with the same key: the first
// writer wins and the other loads its files.
func LoadOrCreate(dir string) (*Identity, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("identity: create directory: %w", err)
	}
	keyPath := filepath.Join(dir, KeyFile)
	certPath := filepath.Join(dir, CertFile)
	priv, err := loadKey(keyPath)
	if errors.Is(err, fs.ErrNotExist) {
		if _, cerr := os.Lstat(certPath); cerr == nil {
			// Either a concurrent creator has just stored both, or the key
			// is lost, and a lost key is a lost identity: don't paper over it.
			if priv, err = loadKey(keyPath); errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("identity: %s exists but %s is missing; remove %s to create a new identity", certPath, KeyFile, CertFile)
			}
		} else {
			priv, err = createKey(keyPath)
		}
	}
	if err != nil {
		return nil, err
	}
	var certDER []byte
	der, err := loadCert(certPath, priv)
	switch {
	case err == nil:
		certDER = der
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, errExpired):
		// Re-issued below and stored.
	default:
		return nil, err
	}
	id, err := fromKey(priv, certDER)
	if err != nil {
		return nil, err
	}
	if certDER == nil {
		data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: id.Cert.Certificate[0]})
		if err := writeFileAtomic(certPath, data, true); err != nil {
			return nil, fmt.Errorf("identity: store certificate: %w", err)
		}
	}
	return id, nil
}

var errExpired = errors.New("certificate expired")

func loadKey(path string) (ed25519.PrivateKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("identity: %s has mode %04o: %w; run chmod 600 on it", path, fi.Mode().Perm(), ErrKeyPermissions)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("identity: read key: %w", err)
	}
	blk, _ := pem.Decode(data)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("identity: %s: no PEM PRIVATE KEY block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("identity: %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("identity: %s: key is %T, want Ed25519", path, k)
	}
	return priv, nil
}

func createKey(path string) (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("identity: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("identity: encode key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	err = writeFileAtomic(path, data, false)
	if errors.Is(err, fs.ErrExist) {
		// Somebody else created it first: use theirs.
		return loadKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("identity: store key: %w", err)
	}
	return priv, nil
}

// loadCert reads the stored certificate and checks that it belongs to priv.
func loadCert(path string, priv ed25519.PrivateKey) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(data)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("identity: %s: no PEM CERTIFICATE block", path)
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("identity: %s: %w", path, err)
	}
	pub, ok := cert.PublicKey.(ed25519.PublicKey)
	if !ok || !pub.Equal(priv.Public()) {
		return nil, fmt.Errorf("identity: %s is not for the key in %s; remove it to have it re-issued", path, KeyFile)
	}
	if time.Now().After(cert.NotAfter) {
		return nil, errExpired
	}
	return blk.Bytes, nil
}

// fromKey builds the identity for priv with the given certificate, or a newly
// issued one when certDER is nil.
func fromKey(priv ed25519.PrivateKey, certDER []byte) (*Identity, error) {
	pub := priv.Public().(ed25519.PublicKey)
	id := NewDeviceID(pub)
	if certDER == nil {
		serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
		if err != nil {
			return nil, fmt.Errorf("identity: serial number: %w", err)
		}
		notBefore := time.Now().Add(-time.Hour).UTC().Truncate(time.Second) // tolerate clock skew
		tmpl := &x509.Certificate{
			SerialNumber:          serial,
			Subject:               pkix.Name{CommonName: id.String(), Organization: []string{"DartSync"}},
			NotBefore:             notBefore,
			NotAfter:              notBefore.Add(CertValidity),
			KeyUsage:              x509.KeyUsageDigitalSignature,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
			BasicConstraintsValid: true,
			DNSNames:              []string{"dartsync"},
		}
		certDER, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
		if err != nil {
			return nil, fmt.Errorf("identity: issue certificate: %w", err)
		}
	}
	leaf, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, fmt.Errorf("identity: parse certificate: %w", err)
	}
	return &Identity{
		Cert: tls.Certificate{Certificate: [][]byte{certDER}, PrivateKey: priv, Leaf: leaf},
		ID:   id,
	}, nil
}
