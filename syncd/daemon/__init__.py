"""The long-running `syncd run`: schedule, HTTP endpoints, signals, systemd."""
