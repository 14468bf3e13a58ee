"""Training data: readers, builders (one per method), templates, mixtures and data cards."""
