"""Runnable examples: the models of the Keras functional API guide, built with plait."""
