package main

import (
	"github.com/dartsync/dartsync/peer"
	"github.com/dartsync/dartsync/peer/bandwidth"
)

// peerLimits are the bandwidth flags of `dartsync peer` (peer/bandwidth);
// `dartsync limits` changes them while the peer runs.
type peerLimits struct {
	MaxSend      bandwidth.Rate `name:"max-send" default:"0" placeholder:"RATE" help:"Send at most this many piece bytes per second to other peers, all transfers together (10MB/s, 80Mbit/s, 512KiB/s). Units: B, kB, MB, GB (powers of 1000), KiB, MiB, GiB (powers of 1024), bit, kbit, Mbit, Gbit, with or without /s; 0: no limit."`
	MaxRecv      bandwidth.Rate `name:"max-recv" default:"0" placeholder:"RATE" help:"Receive at most this many piece bytes per second from other peers, all transfers together. Units: B, kB, MB, GB (powers of 1000), KiB, MiB, GiB (powers of 1024), bit, kbit, Mbit, Gbit, with or without /s; 0: no limit."`
	LANUnlimited bool           `name:"lan-unlimited" help:"No limit for peers on this device's own subnets (the networks of its interface addresses)."`
}

// apply sets cfg's bandwidth limits.
func (l peerLimits) apply(cfg *peer.Config) {
	cfg.Bandwidth = bandwidth.Limits{Send: l.MaxSend, Recv: l.MaxRecv, LANUnlimited: l.LANUnlimited}
}
