//go:build !linux

package chunkstore

// renameNoReplace renames src onto target unless something is there.
func renameNoReplace(src, target string) error { return linkNoReplace(src, target) }
