module github.com/libami-rs/libami-rs/bindings/go

go 1.21
