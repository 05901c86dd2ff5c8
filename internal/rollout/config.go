package rollout

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wootguard/wootguard/internal/config"
	"github.com/wootguard/wootguard/internal/smoke"
	"github.com/wootguard/wootguard/internal/units"
)

// Config is the part of the `updates:` section this package owns. Other
// keys under `updates` (schedule, feeds, notify, backup, chatwoot_url)
// belong to other packages, so LoadConfig reads each of these keys on its own.
type Config struct {
	Targets     []TargetConfig `yaml:"targets"`
	Smoke       smoke.Config   `yaml:"smoke"`
	Soak        time.Duration  `yaml:"soak"`
	StateDir    string         `yaml:"state_dir"`
	MinFreeDisk ByteSize       `yaml:"min_free_disk"`
}

// DefaultStateDir holds the state file, the journal and the lock.
const DefaultStateDir = "/var/lib/wootguard/updates"

// TargetConfig is one Chatwoot installation with its two instances.
type TargetConfig struct {
	Name       string          `yaml:"name"`
	Kind       string          `yaml:"kind"` // docker-compose | linux | helm | exec
	Staging    *InstanceConfig `yaml:"staging"`
	Production *InstanceConfig `yaml:"production"`
}

// InstanceConfig is one running Chatwoot (staging or production). Only the
// block matching the target's kind is read.
type InstanceConfig struct {
	URL         string        `yaml:"url"`          // base URL for smoke tests
	DatabaseURL string        `yaml:"database_url"` // postgres://... reachable from this host
	Backup      BackupConfig  `yaml:"backup"`
	Compose     ComposeConfig `yaml:"compose"`
	Linux       LinuxConfig   `yaml:"linux"`
	Helm        HelmConfig    `yaml:"helm"`
	Exec        ExecConfig    `yaml:"exec"`
}

// BackupConfig says where the pre-update backup goes.
type BackupConfig struct {
	Dir        string `yaml:"dir"`
	StorageDir string `yaml:"storage_dir"` // Chatwoot's storage/ folder; empty = not backed up
	EnvFile    string `yaml:"env_file"`    // Chatwoot's .env; empty = not backed up
}

// ComposeConfig describes a docker compose installation.
type ComposeConfig struct {
	Dir             string `yaml:"dir"`
	File            string `yaml:"file"`    // default docker-compose.yaml
	Project         string `yaml:"project"` // default: compose's own default
	RailsService    string `yaml:"rails_service"`
	SidekiqService  string `yaml:"sidekiq_service"`
	PostgresService string `yaml:"postgres_service"`
	Image           string `yaml:"image"`   // default chatwoot/chatwoot
	Edition         string `yaml:"edition"` // "" or "ce"
	// Command runs compose: [docker, compose] (v2) or [docker-compose]
	// (v1); empty = detected (see composeCommand).
	Command ComposeCommand `yaml:"command"`
	// Pull is always (default), if-missing or never (air-gapped images).
	Pull string `yaml:"pull"`
}

// ComposeCommand is the program (and first arguments) that runs compose:
// a list (`[docker, compose]`) or a string split at spaces
// (`docker-compose`).
type ComposeCommand []string

// UnmarshalYAML accepts a string or a list of strings.
func (c *ComposeCommand) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*c = strings.Fields(n.Value)
		return nil
	case yaml.SequenceNode:
		var argv []string
		if err := n.Decode(&argv); err != nil {
			return err
		}
		*c = argv
		return nil
	}
	return fmt.Errorf("line %d: compose.command is a string (\"docker-compose\") or a list ([docker, compose])", n.Line)
}

// LinuxConfig describes a cwctl-style VM install.
type LinuxConfig struct {
	User          string `yaml:"user"`    // default chatwoot
	AppDir        string `yaml:"app_dir"` // default /home/chatwoot/chatwoot
	SystemdTarget string `yaml:"systemd_target"`
}

// HelmConfig describes a Helm release.
type HelmConfig struct {
	Release     string        `yaml:"release"`
	Chart       string        `yaml:"chart"` // default chatwoot/chatwoot
	Values      []string      `yaml:"values"`
	Namespace   string        `yaml:"namespace"`
	KubeContext string        `yaml:"kube_context"`
	Timeout     time.Duration `yaml:"timeout"` // default 15m
}

// ExecConfig is a target driven by the operator's own commands.
type ExecConfig struct {
	Dir     string            `yaml:"dir"`
	Env     map[string]string `yaml:"env"`
	Stop    ExecCommand       `yaml:"stop"`
	Start   ExecCommand       `yaml:"start"`
	Deploy  ExecCommand       `yaml:"deploy"`
	Migrate ExecCommand       `yaml:"migrate"`
}

// ExecCommand is either a list (an argv, run directly) or a string (run
// with sh -c, and shown as such).
type ExecCommand struct {
	Argv  []string
	Shell string
}

// IsZero reports an unset command.
func (c ExecCommand) IsZero() bool { return len(c.Argv) == 0 && c.Shell == "" }

// UnmarshalYAML accepts a string or a list of strings.
func (c *ExecCommand) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		c.Shell = n.Value
		return nil
	case yaml.SequenceNode:
		return n.Decode(&c.Argv)
	}
	return fmt.Errorf("line %d: a command is a string (run with sh -c) or a list of arguments", n.Line)
}

// MarshalYAML writes the form it was read from.
func (c ExecCommand) MarshalYAML() (any, error) {
	if c.Shell != "" {
		return c.Shell, nil
	}
	return c.Argv, nil
}

// ByteSize is a size like "5GiB", "500MB" or a plain number of bytes, in
// wootguard's one size syntax (the type of internal/units, as config's).
type ByteSize = units.ByteSize

// ParseByteSize reads "10GiB", "10G", "500MB", "1024".
func ParseByteSize(s string) (ByteSize, error) {
	n, err := units.ParseSize(s)
	return ByteSize(n), err
}

// LoadConfig reads this package's keys under `updates` from the YAML file.
func LoadConfig(path string) (Config, error) {
	var c Config
	for _, part := range []struct {
		key string
		v   any
	}{
		{"updates.targets", &c.Targets},
		{"updates.smoke", &c.Smoke},
		{"updates.soak", &c.Soak},
		{"updates.state_dir", &c.StateDir},
		{"updates.min_free_disk", &c.MinFreeDisk},
	} {
		if _, err := config.LoadSection(path, part.key, part.v); err != nil {
			return Config{}, err
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Validate checks what can be checked without running anything.
func (c Config) Validate() error {
	if c.Soak < 0 {
		return fmt.Errorf("updates.soak must not be negative")
	}
	if err := c.Smoke.Validate(); err != nil {
		return fmt.Errorf("updates.smoke: %w", err)
	}
	seen := map[string]bool{}
	for i, t := range c.Targets {
		if t.Name == "" {
			return fmt.Errorf("updates.targets[%d]: name is required", i)
		}
		if seen[t.Name] {
			return fmt.Errorf("updates.targets: name %q used twice", t.Name)
		}
		seen[t.Name] = true
		if _, err := NewTarget(t); err != nil {
			return err
		}
	}
	return nil
}

// StateDirOrDefault is where state, journal and lock live.
func (c Config) StateDirOrDefault() string {
	if c.StateDir == "" {
		return DefaultStateDir
	}
	return c.StateDir
}

// Target finds a target by name; an empty name is fine when there is one.
func (c Config) Target(name string) (*Target, error) {
	if len(c.Targets) == 0 {
		return nil, fmt.Errorf("no update targets configured (add updates.targets to the config file)")
	}
	if name == "" {
		if len(c.Targets) > 1 {
			return nil, fmt.Errorf("%d targets are configured; choose one with --target (%s)", len(c.Targets), strings.Join(c.targetNames(), ", "))
		}
		return NewTarget(c.Targets[0])
	}
	for _, t := range c.Targets {
		if t.Name == name {
			return NewTarget(t)
		}
	}
	return nil, fmt.Errorf("no target named %q (configured: %s)", name, strings.Join(c.targetNames(), ", "))
}

func (c Config) targetNames() []string {
	var out []string
	for _, t := range c.Targets {
		out = append(out, t.Name)
	}
	return out
}
