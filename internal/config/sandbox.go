package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Sandbox is the [sandbox] section; environment variables SANDBOX_<KEY>.
type Sandbox struct {
	RemoteRuntimeAPIURL string `toml:"remote_runtime_api_url" json:"remote_runtime_api_url"`
	// LocalRuntimeURL is the scheme+host the backend uses to reach ports a
	// sandbox publishes.
	LocalRuntimeURL     string `toml:"local_runtime_url" json:"local_runtime_url"`
	KeepRuntimeAlive    bool   `toml:"keep_runtime_alive" json:"keep_runtime_alive"`
	PauseClosedRuntimes bool   `toml:"pause_closed_runtimes" json:"pause_closed_runtimes"`
	RmAllContainers     bool   `toml:"rm_all_containers" json:"rm_all_containers"`
	// APIKey authenticates to the remote runtime API (X-API-Key).
	APIKey                Secret `toml:"api_key" json:"api_key"`
	BaseContainerImage    string `toml:"base_container_image" json:"base_container_image"`
	RuntimeContainerImage string `toml:"runtime_container_image" json:"runtime_container_image"`
	// UserID is the uid of the sandbox's openhands user; defaults to the
	// backend's own uid.
	UserID int `toml:"user_id" json:"user_id"`
	// Timeout is the hard timeout, in seconds, for actions that set none.
	Timeout                    int    `toml:"timeout" json:"timeout"`
	RemoteRuntimeInitTimeout   int    `toml:"remote_runtime_init_timeout" json:"remote_runtime_init_timeout"`
	RemoteRuntimeAPITimeout    int    `toml:"remote_runtime_api_timeout" json:"remote_runtime_api_timeout"`
	RemoteRuntimeEnableRetries bool   `toml:"remote_runtime_enable_retries" json:"remote_runtime_enable_retries"`
	RemoteRuntimeClass         string `toml:"remote_runtime_class" json:"remote_runtime_class"`
	EnableAutoLint             bool   `toml:"enable_auto_lint" json:"enable_auto_lint"`
	// UseHostNetwork runs the sandbox with network mode "host".
	UseHostNetwork        bool     `toml:"use_host_network" json:"use_host_network"`
	RuntimeBindingAddress string   `toml:"runtime_binding_address" json:"runtime_binding_address"`
	RuntimeExtraBuildArgs []string `toml:"runtime_extra_build_args" json:"runtime_extra_build_args"`
	// InitializePlugins is declared by OpenHands 0.50 but read by nothing.
	InitializePlugins   bool   `toml:"initialize_plugins" json:"initialize_plugins"`
	ForceRebuildRuntime bool   `toml:"force_rebuild_runtime" json:"force_rebuild_runtime"`
	RuntimeExtraDeps    string `toml:"runtime_extra_deps" json:"runtime_extra_deps"`
	// RuntimeStartupEnvVars are set in the sandbox container, over
	// everything else.
	RuntimeStartupEnvVars SecretMap `toml:"runtime_startup_env_vars" json:"runtime_startup_env_vars"`
	BrowsergymEvalEnv     string    `toml:"browsergym_eval_env" json:"browsergym_eval_env"`
	Platform              string    `toml:"platform" json:"platform"`
	// CloseDelay is how long, in seconds, an idle conversation with no
	// connection is kept before it is closed; 0 = never.
	CloseDelay                  int            `toml:"close_delay" json:"close_delay"`
	RemoteRuntimeResourceFactor int            `toml:"remote_runtime_resource_factor" json:"remote_runtime_resource_factor"`
	EnableGPU                   bool           `toml:"enable_gpu" json:"enable_gpu"`
	CUDAVisibleDevices          string         `toml:"cuda_visible_devices" json:"cuda_visible_devices"`
	DockerRuntimeKwargs         map[string]any `toml:"docker_runtime_kwargs" json:"docker_runtime_kwargs"`
	SelectedRepo                string         `toml:"selected_repo" json:"selected_repo"`
	TrustedDirs                 []string       `toml:"trusted_dirs" json:"trusted_dirs"`
	VSCodePort                  *int           `toml:"vscode_port" json:"vscode_port"`
	// Volumes is "host:container[:mode]" mounts, comma-separated, mode rw
	// (default) or ro. Parsed at load into Mounts.
	Volumes string `toml:"volumes" json:"volumes"`

	// gohands-only: MemoryLimit caps the sandbox container's memory, in
	// Docker's notation ("512m", "2g"); "" = no limit. See MemoryBytes.
	MemoryLimit string `toml:"memory_limit" json:"memory_limit"`
	// gohands-only: CPUs caps the container's CPU share (1.5 = one and a half
	// CPUs); 0 = no limit.
	CPUs float64 `toml:"cpus" json:"cpus"`
	// gohands-only: PidsLimit caps the number of processes in the container;
	// 0 = no limit.
	PidsLimit int `toml:"pids_limit" json:"pids_limit"`
	// gohands-only: Network is the container network mode or network name
	// ("none", "bridge", a user network); "" = the engine's default, which is
	// what OpenHands does. use_host_network = true means "host".
	Network string `toml:"network" json:"network"`

	// Mounts is the result of loading: the parsed volumes, or the legacy
	// core.workspace_* mount when volumes is empty. Not a config key.
	Mounts []Mount `toml:"-" json:"-"`
}

// Mount is one host directory bind-mounted into the sandbox.
type Mount struct {
	Host      string // absolute host path
	Container string // absolute path in the sandbox
	ReadOnly  bool
}

// DefaultSandbox returns the [sandbox] section with OpenHands 0.50's code
// defaults (and gohands' additions unset).
func DefaultSandbox() Sandbox {
	return Sandbox{
		RemoteRuntimeAPIURL:         "http://localhost:8000",
		LocalRuntimeURL:             "http://localhost",
		PauseClosedRuntimes:         true,
		BaseContainerImage:          "nikolaik/python-nodejs:python3.12-nodejs22",
		UserID:                      defaultUserID(),
		Timeout:                     120,
		RemoteRuntimeInitTimeout:    180,
		RemoteRuntimeAPITimeout:     10,
		RemoteRuntimeEnableRetries:  true,
		RuntimeBindingAddress:       "0.0.0.0",
		InitializePlugins:           true,
		RuntimeStartupEnvVars:       SecretMap{},
		CloseDelay:                  3600,
		RemoteRuntimeResourceFactor: 1,
		TrustedDirs:                 []string{},
	}
}

// MemoryBytes returns MemoryLimit in bytes, 0 when unset. It accepts Docker's
// forms: a number with an optional unit b, k, m, g, t (powers of 1024, case-
// insensitive, optionally followed by "b" or "ib": "2g", "512MB", "1.5GiB").
func (s Sandbox) MemoryBytes() (int64, error) {
	return parseMemory(s.MemoryLimit)
}

func parseMemory(v string) (int64, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "" {
		return 0, nil
	}
	num := strings.TrimRight(v, "kmgtpib")
	unit := strings.TrimSuffix(strings.TrimSuffix(v[len(num):], "b"), "i")
	mult := map[string]float64{"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}[unit]
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || mult == 0 || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) || n*mult >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is not a memory size (want e.g. 512m or 2g)", v)
	}
	return int64(n * mult), nil
}

// Security is the [security] section; environment variables SECURITY_<KEY>.
type Security struct {
	ConfirmationMode bool   `toml:"confirmation_mode" json:"confirmation_mode"`
	SecurityAnalyzer string `toml:"security_analyzer" json:"security_analyzer"`
}

// Kubernetes is the [kubernetes] section; environment variables
// KUBERNETES_<KEY>.
type Kubernetes struct {
	Namespace             string `toml:"namespace" json:"namespace"`
	IngressDomain         string `toml:"ingress_domain" json:"ingress_domain"`
	PVCStorageSize        string `toml:"pvc_storage_size" json:"pvc_storage_size"`
	PVCStorageClass       string `toml:"pvc_storage_class" json:"pvc_storage_class"`
	ResourceCPURequest    string `toml:"resource_cpu_request" json:"resource_cpu_request"`
	ResourceMemoryRequest string `toml:"resource_memory_request" json:"resource_memory_request"`
	ResourceMemoryLimit   string `toml:"resource_memory_limit" json:"resource_memory_limit"`
	ImagePullSecret       string `toml:"image_pull_secret" json:"image_pull_secret"`
	IngressTLSSecret      string `toml:"ingress_tls_secret" json:"ingress_tls_secret"`
	NodeSelectorKey       string `toml:"node_selector_key" json:"node_selector_key"`
	NodeSelectorVal       string `toml:"node_selector_val" json:"node_selector_val"`
	TolerationsYAML       string `toml:"tolerations_yaml" json:"tolerations_yaml"`
	Privileged            bool   `toml:"privileged" json:"privileged"`
}

// DefaultKubernetes returns the [kubernetes] section with OpenHands 0.50's
// code defaults.
func DefaultKubernetes() Kubernetes {
	return Kubernetes{
		Namespace:             "default",
		IngressDomain:         "localhost",
		PVCStorageSize:        "2Gi",
		ResourceCPURequest:    "1",
		ResourceMemoryRequest: "1Gi",
		ResourceMemoryLimit:   "2Gi",
	}
}
