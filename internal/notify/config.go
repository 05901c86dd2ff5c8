package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/mail"
	"os"
	"strings"

	"github.com/wootguard/wootguard/internal/weburl"
)

// Config is the notification section of the YAML config (wootguard reads
// it at updates.notify):
//
//	notify:
//	  webhooks: [{url: https://hooks.example.com/wootguard, headers: {Authorization: "Bearer …"}}]
//	  slack: [{url: https://hooks.slack.com/services/T000/B000/XXXX}]
//	  smtp: {host: smtp.example.com, port: 587, username: ops, password_env: SMTP_PASSWORD,
//	         from: wootguard@example.com, to: [ops@example.com]}
//	  state_file: /var/lib/wootguard/notify-state.json
type Config struct {
	Webhooks []WebhookConfig `yaml:"webhooks"`
	Slack    []SlackConfig   `yaml:"slack"`
	SMTP     *SMTPConfig     `yaml:"smtp"`
	// StateFile enables at-most-once delivery of keyed events (see Once).
	StateFile string `yaml:"state_file"`
}

// WebhookConfig is one generic JSON webhook.
type WebhookConfig struct {
	URL     string            `yaml:"url"`
	Headers map[string]string `yaml:"headers"`
}

// SlackConfig is one Slack incoming webhook.
type SlackConfig struct {
	URL string `yaml:"url"`
}

// SMTPConfig is an email channel. The password is read from the
// environment variable PasswordEnv, never from the file.
type SMTPConfig struct {
	Host        string   `yaml:"host"`
	Port        int      `yaml:"port"`
	Username    string   `yaml:"username"`
	PasswordEnv string   `yaml:"password_env"`
	From        string   `yaml:"from"`
	To          []string `yaml:"to"`
}

// Empty reports whether no channel is configured.
func (c Config) Empty() bool {
	return len(c.Webhooks) == 0 && len(c.Slack) == 0 && c.SMTP == nil
}

// FromConfig builds the Sender for c: every channel in a Multi, each
// wrapped in Once when StateFile is set (so a channel that failed is
// retried next run without repeating the others). With no channel it
// returns an empty Multi, which sends nothing. Environment variables are
// read from the process.
func FromConfig(c Config) (Sender, error) { return FromConfigEnv(c, os.Getenv) }

// Channel is an extra sender for FromConfigEnv; ID names it in the state
// file.
type Channel struct {
	ID     string
	Sender Sender
}

// FromConfigEnv is FromConfig with an explicit environment lookup and
// extra channels (a log printer, say) that share the once-only state.
func FromConfigEnv(c Config, getenv func(string) string, extra ...Channel) (Sender, error) {
	type channel struct {
		id string
		s  Sender
	}
	var chans []channel
	for _, e := range extra {
		chans = append(chans, channel{e.ID, e.Sender})
	}
	for i, w := range c.Webhooks {
		if err := checkURL(w.URL); err != nil {
			return nil, fmt.Errorf("notify.webhooks[%d].url: %v", i, err)
		}
		chans = append(chans, channel{"webhook:" + digest(w.URL), &Webhook{URL: w.URL, Headers: w.Headers}})
	}
	for i, s := range c.Slack {
		if err := checkURL(s.URL); err != nil {
			return nil, fmt.Errorf("notify.slack[%d].url: %v", i, err)
		}
		chans = append(chans, channel{"slack:" + digest(s.URL), &Slack{URL: s.URL}})
	}
	if m := c.SMTP; m != nil {
		s, err := smtpFromConfig(m, getenv)
		if err != nil {
			return nil, err
		}
		chans = append(chans, channel{"smtp:" + digest(m.Host+" "+strings.Join(m.To, ",")), s})
	}
	var state *State
	if c.StateFile != "" {
		var err error
		if state, err = OpenState(c.StateFile); err != nil {
			return nil, err
		}
	}
	out := Multi{}
	for _, ch := range chans {
		if state != nil {
			out = append(out, &Once{Next: ch.s, State: state, Channel: ch.id})
		} else {
			out = append(out, ch.s)
		}
	}
	return out, nil
}

func smtpFromConfig(m *SMTPConfig, getenv func(string) string) (*SMTP, error) {
	if m.Host == "" {
		return nil, fmt.Errorf("notify.smtp.host is required")
	}
	if m.Port < 0 || m.Port > 65535 {
		return nil, fmt.Errorf("notify.smtp.port %d is not a TCP port", m.Port)
	}
	if _, err := mail.ParseAddress(m.From); err != nil {
		return nil, fmt.Errorf("notify.smtp.from %q: %v", m.From, err)
	}
	if len(m.To) == 0 {
		return nil, fmt.Errorf("notify.smtp.to needs at least one address")
	}
	for _, to := range m.To {
		if _, err := mail.ParseAddress(to); err != nil {
			return nil, fmt.Errorf("notify.smtp.to %q: %v", to, err)
		}
	}
	s := &SMTP{Host: m.Host, Port: m.Port, Username: m.Username, From: m.From, To: m.To}
	if m.Username != "" {
		if m.PasswordEnv == "" {
			return nil, fmt.Errorf("notify.smtp.username is set: name the variable holding the password in notify.smtp.password_env")
		}
		s.Password = getenv(m.PasswordEnv)
		if s.Password == "" {
			return nil, fmt.Errorf("notify.smtp.password_env: environment variable %s is empty or unset", m.PasswordEnv)
		}
	}
	return s, nil
}

func checkURL(s string) error {
	if _, err := weburl.Parse(s); err != nil {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	return nil
}

// digest names a channel in the state file without storing its secret URL.
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}
