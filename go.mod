module github.com/gohands/gohands

go 1.26
