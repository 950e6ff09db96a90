"""Developer tools of hparams-tools (not installed with the package)."""
