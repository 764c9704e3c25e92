// Package admin is the tracker's admin API: HTTP with JSON bodies on a Unix
// socket in the tracker's state directory (SocketFile, mode 0600, so only
// the tracker's user reaches it). `dartsync tracker token` and `dartsync
// tracker members` use it to reach a running tracker (docs/ACCESS.md).
//
// Terms:
//
//   - Service: the operations, declared here where they are consumed (by
//     Handler, which serves them, and by the command line, which calls a
//     Client or, with no tracker running, the state directly through
//     tracker.OpenStateAdmin).
//   - Member: a device that joined the tracker; its folders are its grant
//     (AllFolders, or exactly Folders). The default folder, "" on the wire
//     and in JSON, is written "(default)" on the command line.
//   - Token: a join token limited to named folders, optionally expiring
//     (the tracker keeps only a hash of its secret), or the tracker's own
//     token (AllFolders), which rotation replaces.
//
// Endpoints (every error is a JSON object {"error": "..."} with status 400
// for a bad request, 404 for an unknown member, 500 otherwise):
//
//	POST   /v1/tokens                   {"folders": ["photos"], "expires_in": "24h"} -> Token
//	GET    /v1/members                  -> {"members": [Member, ...]}
//	PUT    /v1/members/{device}/folders {"all_folders": false, "folders": ["photos"]} -> Member
//	DELETE /v1/members/{device}         -> 204, the member's sessions are closed; it is refused from then on
//	POST   /v1/token/rotate             -> Token (the tracker's own, all_folders): a new secret
//
// {device} is a full device ID or a prefix of at least 7 characters that
// names exactly one member. Request bodies are at most MaxRequestSize bytes
// and decoded strictly (DecodeTokenRequest, DecodeFoldersRequest): unknown
// fields and trailing data are refused.
//
// Sentinel errors (test with errors.Is):
//
//   - ErrInvalid: a request was malformed (bad folder name, duration,
//     device ID or body).
//   - ErrNotFound: no member matches the device.
//   - ErrUnavailable: no tracker answers on the socket.
package admin
