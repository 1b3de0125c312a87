// Command badserver stands in for the gohands binary in readiness-failure tests: it prints a few
// log lines and then, as BADSERVER_MODE says, exits with status 3 ("exit") or never answers
// ("hang").
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	fmt.Println("badserver: starting with", os.Args[1:])
	fmt.Fprintln(os.Stderr, "badserver: cannot open the socket on purpose")
	if os.Getenv("BADSERVER_MODE") == "hang" {
		for {
			time.Sleep(time.Hour)
		}
	}
	os.Exit(3)
}
