"""Training: compile, fit, evaluate and predict (the loop that `Model` inherits)."""
