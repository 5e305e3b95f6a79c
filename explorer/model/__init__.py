"""The models: config, networks, AE/VAE/CVAE, loss, checkpoints, browser export."""
