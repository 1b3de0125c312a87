module github.com/gohands/gohands

go 1.26

require (
	github.com/pelletier/go-toml/v2 v2.2.4
	go.uber.org/goleak v1.3.0
	golang.org/x/sys v0.38.0
)

require github.com/creack/pty v1.1.24 // indirect
