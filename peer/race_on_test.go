//go:build race

package peer

// raceEnabled: the race detector is on (its shadow memory and slower
// runtime make heap and speed figures meaningless).
const raceEnabled = true
