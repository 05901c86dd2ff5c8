package advisory

// Config is the "audit:" section of the wootguard config file. Paths
// are relative to the config file; command-line flags override it.
//
//	audit:
//	  db: /var/lib/wootguard/ruby-advisory-db
//	  osv: /var/lib/wootguard/osv-rubygems.zip
//	  ignore_file: .wootguard-ignore.yml
//	  fail_on: high
//	  max_db_age: 7d
type Config struct {
	DB         string `yaml:"db"`
	OSV        string `yaml:"osv"`
	IgnoreFile string `yaml:"ignore_file"`
	FailOn     string `yaml:"fail_on"`
	MaxDBAge   string `yaml:"max_db_age"`
}
