"""The scheduler's rules, one module per plugin; `registry` names them and holds the default set."""
