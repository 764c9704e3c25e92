// Package e2e holds the end-to-end test of DartSync: the real dartsync
// binary, built once in TestMain, run as one tracker and four peer processes
// on 127.0.0.1 with separate folders. Every check compares the folders by
// content hash and polls with a deadline; no assertion depends on a sleep.
package e2e
