//go:build ami_checkout

package ami

// Inside the repository: the headers and the library as cargo builds them
// (go test -tags ami_checkout, after cargo build --release at the root).

// #cgo CFLAGS: -I${SRCDIR}/../../include
// #cgo LDFLAGS: -L${SRCDIR}/../../target/release -Wl,-rpath,${SRCDIR}/../../target/release -lami
import "C"
