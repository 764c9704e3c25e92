// Package identity gives every DartSync node (tracker or peer) a stable
// cryptographic identity.
//
// Terms:
//
//   - Key: an Ed25519 private key created on first start and stored, PKCS#8 PEM,
//     in <dir>/key.pem (mode 0600, directory 0700).
//   - Certificate: a self-signed X.509 certificate for that key, stored in
//     <dir>/cert.pem (mode 0600). Its subject common name is the device ID
//     string; it is valid for 20 years and is re-issued from the same key when
//     it has expired or is missing. A certificate without its key is an error
//     (a lost key is a lost identity), never silently replaced. Nobody checks the certificate chain: the
//     TLS handshake proves possession of the key, and the key is the identity.
//   - DeviceID: SHA-256 of the raw 32-byte Ed25519 public key (not of the DER
//     SubjectPublicKeyInfo, not of the certificate), so re-issuing the
//     certificate keeps the ID. A DeviceID is a comparable [32]byte, usable as
//     a map key.
//   - Device ID string: the 32 bytes in RFC 4648 base32 (alphabet A–Z 2–7, no
//     padding) give 52 characters, cut into 4 blocks of 13; each block is
//     followed by one Luhn mod 32 check character over that block (56
//     characters), and the result is written in 8 groups of 7 joined by dashes:
//     XXXXXXX-XXXXXXX-XXXXXXX-XXXXXXX-XXXXXXX-XXXXXXX-XXXXXXX-XXXXXXX.
//     The check characters catch every single mistyped character and most
//     swaps of two neighbours. ParseDeviceID ignores case, dashes and spaces,
//     and reads the digits 0, 1 and 8 (not in the alphabet) as O, I and B.
//   - Short form: the first 7 characters (the first group), used where a
//     human-readable tag is enough (conflict file names). It is not unique
//     enough to authenticate anything.
//
// Sentinel errors: ErrBadDeviceID (a device ID string of the wrong length or
// with characters outside the alphabet), ErrBadCheck (a check character does
// not match: a typo), ErrNotEd25519 (a certificate whose key is not Ed25519),
// ErrKeyPermissions (the stored key is readable by group or others).
package identity
