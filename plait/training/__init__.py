"""Training: losses, metrics, optimizers (and, later, compile/fit/evaluate)."""
