"""Latent-space operations, free of any UI: projection, paths, prior, posterior,
neighbours, measures, and an encoded dataset (space, store encodings)."""
