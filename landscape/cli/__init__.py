"""Layer 4, the command-line tools' shared pieces: argument parsing, plots."""
