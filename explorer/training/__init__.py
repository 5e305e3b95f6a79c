"""Training, resume, distributed runs, evaluation and the model card."""
