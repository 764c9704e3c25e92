package identity

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestLoadOrCreateCreatesThenLoads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "id")
	a, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, filepath.Join(dir, KeyFile): 0o600, filepath.Join(dir, CertFile): 0o600} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s mode %v, want %v", name, fi.Mode(), want)
		}
	}
	leaf := a.Cert.Leaf
	if leaf.Subject.CommonName != a.ID.String() {
		t.Errorf("CN %q, want %q", leaf.Subject.CommonName, a.ID)
	}
	if v := leaf.NotAfter.Sub(leaf.NotBefore); v < 19*365*24*time.Hour {
		t.Errorf("validity %v too short", v)
	}
	if got, err := FromCertificate(leaf); err != nil || got != a.ID {
		t.Errorf("FromCertificate = %v, %v; want %v", got, err, a.ID)
	}
	if got := NewDeviceID(a.Cert.PrivateKey.(ed25519.PrivateKey).Public().(ed25519.PublicKey)); got != a.ID {
		t.Error("ID is not the hash of the key")
	}
	b, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if b.ID != a.ID || string(b.Cert.Certificate[0]) != string(a.Cert.Certificate[0]) {
		t.Fatal("second load returned a different identity")
	}
	// Distinct directories give distinct identities.
	c, err := LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if c.ID == a.ID {
		t.Fatal("two fresh identities are equal")
	}
}

func TestLoadOrCreateReissuesMissingCert(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, CertFile)); err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if b.ID != a.ID {
		t.Fatal("re-issued certificate changed the device ID")
	}
	if _, err := os.Stat(filepath.Join(dir, CertFile)); err != nil {
		t.Fatal("certificate not stored again:", err)
	}
}

func TestLoadOrCreateErrors(t *testing.T) {
	otherDir := t.TempDir()
	if _, err := LoadOrCreate(otherDir); err != nil {
		t.Fatal(err)
	}
	otherCert, err := os.ReadFile(filepath.Join(otherDir, CertFile))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		prepare func(dir string) error
		wantErr error // nil: any non-nil error
	}{
		{"key world readable", func(dir string) error { return os.Chmod(filepath.Join(dir, KeyFile), 0o644) }, ErrKeyPermissions},
		{"key garbage", func(dir string) error { return os.WriteFile(filepath.Join(dir, KeyFile), []byte("junk"), 0o600) }, nil},
		{"cert garbage", func(dir string) error { return os.WriteFile(filepath.Join(dir, CertFile), []byte("junk"), 0o600) }, nil},
		{"cert of another key", func(dir string) error { return os.WriteFile(filepath.Join(dir, CertFile), otherCert, 0o600) }, nil},
		{"key lost, cert kept", func(dir string) error { return os.Remove(filepath.Join(dir, KeyFile)) }, nil},
		{"key lost, cert kept, twice", func(dir string) error {
			if err := os.Remove(filepath.Join(dir, KeyFile)); err != nil {
				return err
			}
			if _, err := LoadOrCreate(dir); err == nil {
				return errors.New("first load after losing the key succeeded")
			}
			return nil
		}, nil},
		{"key is a directory", func(dir string) error {
			if err := os.Remove(filepath.Join(dir, KeyFile)); err != nil {
				return err
			}
			return os.Mkdir(filepath.Join(dir, KeyFile), 0o700)
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := LoadOrCreate(dir); err != nil {
				t.Fatal(err)
			}
			if err := tc.prepare(dir); err != nil {
				t.Fatal(err)
			}
			_, err := LoadOrCreate(dir)
			t.Logf("error: %v", err)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestLoadOrCreateConcurrent(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	ids := make([]DeviceID, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id, err := LoadOrCreate(dir)
			errs[i] = err
			if err == nil {
				ids[i] = id.ID
			}
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("concurrent creators disagree: %v vs %v", ids[i], ids[0])
		}
	}
	again, err := LoadOrCreate(dir)
	if err != nil || again.ID != ids[0] {
		t.Fatalf("reload: %v %v", again, err)
	}
}

func TestFromCertificate(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cert    *x509.Certificate
		want    DeviceID
		wantErr error
	}{
		{"nil", nil, DeviceID{}, ErrNotEd25519},
		{"rsa", selfSigned(t, &rsaKey.PublicKey, rsaKey), DeviceID{}, ErrNotEd25519},
		{"ecdsa", selfSigned(t, &ecKey.PublicKey, ecKey), DeviceID{}, ErrNotEd25519},
		{"ed25519", selfSigned(t, edPub, edKey), NewDeviceID(edPub), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FromCertificate(tc.cert)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func selfSigned(t *testing.T, pub, priv any) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLoadOrCreateReissuesExpiredCert(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	priv := a.Cert.PrivateKey.(ed25519.PrivateKey)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: a.ID.String()},
		NotBefore:    time.Now().Add(-48 * time.Hour),
		NotAfter:     time.Now().Add(-24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		t.Fatal(err)
	}
	certPath := filepath.Join(dir, CertFile)
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if b.ID != a.ID {
		t.Fatal("re-issue changed the device ID")
	}
	if !b.Cert.Leaf.NotAfter.After(time.Now().Add(19 * 365 * 24 * time.Hour)) {
		t.Fatalf("re-issued certificate expires %v", b.Cert.Leaf.NotAfter)
	}
	c, err := LoadOrCreate(dir)
	if err != nil || !bytes.Equal(c.Cert.Certificate[0], b.Cert.Certificate[0]) {
		t.Fatalf("re-issued certificate not stored: %v", err)
	}
}
