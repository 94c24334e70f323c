//go:build !ami_checkout

package ami

// The installed libami (make install), found by pkg-config.

// #cgo pkg-config: ami
import "C"
