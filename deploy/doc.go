// Package deploy holds wootguard's deployment recipes (container image,
// docker compose override, systemd units, Kubernetes manifests, reverse
// proxy snippets; see docs/deploy.md). It has no code: its tests check
// that every recipe is well formed and says what the docs promise.
package deploy
