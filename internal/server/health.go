package server

import (
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func (s *Server) handleAlive(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Status string `json:"status"`
	}{"ok"})
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, "OK")
}

type serverInfo struct {
	Uptime    float64   `json:"uptime"`
	IdleTime  float64   `json:"idle_time"`
	Resources resources `json:"resources"`
}

type resources struct {
	CPUPercent float64 `json:"cpu_percent"`
	Memory     struct {
		RSS     int64   `json:"rss"`
		VMS     int64   `json:"vms"`
		Percent float64 `json:"percent"`
	} `json:"memory"`
	Disk struct {
		Total   int64   `json:"total"`
		Used    int64   `json:"used"`
		Free    int64   `json:"free"`
		Percent float64 `json:"percent"`
	} `json:"disk"`
	IO struct {
		ReadBytes  int64 `json:"read_bytes"`
		WriteBytes int64 `json:"write_bytes"`
	} `json:"io"`
}

// handleServerInfo reports uptime, idle time and process resources. Unlike OpenHands (psutil, which
// samples CPU for 0.1 s) cpu_percent is the average over the process lifetime, read from getrusage,
// and the other figures come from /proc where it exists; unknown figures are 0.
func (s *Server) handleServerInfo(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	uptime := now.Sub(s.started).Seconds()
	info := serverInfo{
		Uptime:   uptime,
		IdleTime: now.Sub(time.Unix(0, s.lastActive.Load())).Seconds(),
	}
	res := &info.Resources
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil && uptime > 0 {
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		res.CPUPercent = 100 * cpu.Seconds() / uptime
	}
	if f := procFields("/proc/self/statm"); len(f) >= 2 {
		page := int64(os.Getpagesize())
		res.Memory.VMS = atoi(f[0]) * page
		res.Memory.RSS = atoi(f[1]) * page
		if total := memTotal(); total > 0 {
			res.Memory.Percent = 100 * float64(res.Memory.RSS) / float64(total)
		}
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs("/", &st); err == nil {
		bs := int64(st.Bsize)
		res.Disk.Total = int64(st.Blocks) * bs
		res.Disk.Free = int64(st.Bavail) * bs
		res.Disk.Used = (int64(st.Blocks) - int64(st.Bfree)) * bs
		if res.Disk.Total > 0 {
			res.Disk.Percent = 100 * float64(res.Disk.Used) / float64(res.Disk.Total)
		}
	}
	for _, line := range procLines("/proc/self/io") {
		name, val, _ := strings.Cut(line, ":")
		switch name {
		case "read_bytes":
			res.IO.ReadBytes = atoi(strings.TrimSpace(val))
		case "write_bytes":
			res.IO.WriteBytes = atoi(strings.TrimSpace(val))
		}
	}
	writeJSON(w, http.StatusOK, info)
}

func procLines(path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return strings.Split(string(data), "\n")
}

func procFields(path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return strings.Fields(string(data))
}

// memTotal is the machine's memory in bytes from /proc/meminfo, or 0.
func memTotal() int64 {
	for _, line := range procLines("/proc/meminfo") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				return atoi(f[0]) * 1024
			}
		}
	}
	return 0
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
