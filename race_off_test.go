//go:build !race

package zocket_test

const raceEnabled = false
